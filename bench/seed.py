"""bench/seed: seconds per 100k messages seeded, split into SQL and object files, at a few sizes.

Usage: .venv/bin/python bench/seed.py [--messages 100000 500000] [--dir STACK_DIR]
Starts a throwaway local stack (or uses the running one in --dir), seeds a fresh database per
size with `SeedOptions.scaled(n)` (a voice note per 5 messages), and prints one row per size. Equal
figures per 100k across sizes mean the seed scales linearly.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import time
from pathlib import Path

from consolidation.pytest_plugin import LocalCluster
from consolidation.seed import SeedOptions, seed_legacy
from consolidation.stack import Stack


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench(stack: Stack, sizes: list[int]) -> None:
    cluster = LocalCluster(stack)
    print(f"{'messages':>10} {'voice':>8} {'objects':>8} {'total s':>8} "
          f"{'s/100k':>7} {'sql s/100k':>10} {'files s/100k':>12}")
    for messages in sizes:
        database = cluster.create(f"bench_seed_{messages}")
        try:
            started = time.perf_counter()
            report = seed_legacy(database.url, database.store_root, SeedOptions.scaled(messages))
            total = time.perf_counter() - started
        finally:
            cluster.drop(database)
        files = report.timings["objects"]
        per_100k = 100_000 / max(messages, 1)
        print(f"{messages:>10,} {report.options.voice_notes:>8,} {report.files_written:>8,} "
              f"{total:>8.1f} {total * per_100k:>7.2f} {(total - files) * per_100k:>10.2f} "
              f"{files * per_100k:>12.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[100_000, 500_000])
    parser.add_argument("--dir", type=Path, default=None, help="Use the running stack in this folder.")
    args = parser.parse_args()
    if args.dir:
        bench(Stack(args.dir), args.messages)
        return
    directory = Path(tempfile.mkdtemp(prefix="bench-seed-"))
    stack = Stack(directory)
    try:
        stack.up(port=_free_port())
        bench(stack, args.messages)
    finally:
        if stack.settings_file.is_file():
            stack.down()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
