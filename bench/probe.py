"""bench/probe: wall time of the full default access matrix (target ≤ 1 s), policies installed.

Usage: .venv/bin/python bench/probe.py [--runs 10] [--dir STACK_DIR]
Uses the running stack in --dir, or starts a throwaway one; builds a database with the legacy
schema, the small chat world of tests/fixtures/policy_sets and the installed access policy, then
times `probe()` end to end (connect, personas, fixtures, every cell, rollback) RUNS times.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import tempfile
import time
from pathlib import Path

from consolidation.policies.probes import probe

from consolidation.core.config import Config
from consolidation.phases import driver
from consolidation.pytest_plugin import LocalCluster, apply_legacy_schema
from consolidation.stack import Stack

WORLD = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "policy_sets" / "chat_world.sql"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench(stack: Stack, runs: int) -> None:
    cluster = LocalCluster(stack)
    database = cluster.create("bench_probe")
    config = Config()
    try:
        with database.connect() as conn:
            apply_legacy_schema(conn)
            conn.execute(WORLD.read_text())
            ctx = driver.context(conn, config, database.url, force_order=True, include_legacy=True)
            driver.apply_phase("policies", ctx)
        times, cells = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            run = probe(database.url, config)
            times.append(time.perf_counter() - started)
            cells = len(run.observations)
            assert run.passed, run.findings
        median = statistics.median(times)
        print(
            f"cells {cells}  runs {runs}  median {median:.3f} s  min {min(times):.3f} s  "
            f"max {max(times):.3f} s  per cell {median / cells * 1000:.2f} ms  target ≤ 1 s: "
            f"{'met' if median <= 1.0 else 'MISSED'}"
        )
    finally:
        cluster.drop(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--dir", type=Path, default=None, help="a running stack's folder")
    args = parser.parse_args()
    if args.dir:
        bench(Stack(args.dir), args.runs)
        return
    directory = Path(tempfile.mkdtemp(prefix="bench-probe-"))
    stack = Stack(directory)
    stack.up(port=_free_port())
    try:
        bench(stack, args.runs)
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
