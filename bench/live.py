"""bench/live: a steady legacy writer during merge and cut-over; its latency idle and during merge.

Usage: .venv/bin/python bench/live.py [--messages 500000] [--writes 10000] [--rate 400] [--idle 10]
                                      [--workers 1] [--pause-ratio 1]
Starts a throwaway local stack (loopback), generates the legacy data set-based in SQL, starts a
writer inserting and updating legacy messages and voice notes at a steady rate (bounded by
--writes), runs `consolidate merge --apply` while it writes, stops the writer (the app switched)
and runs `consolidate cutover apply`; then checks that every row the writer wrote is in
chat_messages exactly once with its latest content. Exit 1 on any error, loss or duplicate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from merge import GENERATE  # bench/merge.py: the same generated legacy data

from consolidation.live import run_live
from consolidation.pytest_plugin import LocalCluster, apply_legacy_schema
from consolidation.stack import Stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--writes", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=400.0, help="writes per second")
    parser.add_argument(
        "--idle", type=float, default=10.0, help="seconds of writes before merge starts (the baseline)"
    )
    # How README tells an operator to merge while the app keeps writing: one worker, pausing as
    # long as each batch took. `--workers 2 --pause-ratio 0` is the tool's default, fastest pace.
    parser.add_argument("--workers", type=int, default=1, help="merge --workers")
    parser.add_argument("--pause-ratio", type=float, default=1.0, help="merge --pause-ratio")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-live-"))
    stack = Stack(directory)
    stack.up()
    try:
        database = LocalCluster(stack).create("bench_live")
        with psycopg.connect(database.url, autocommit=True) as conn:
            apply_legacy_schema(conn)
            started = time.perf_counter()
            sizes = {
                "users": 5000,
                "bookings": max(args.messages // 50, 10),
                "messages": args.messages,
                "voice_notes": args.messages // 5,
            }
            for statement in filter(str.strip, GENERATE.split(";\n")):
                conn.execute(statement, {k: v for k, v in sizes.items() if f"%({k})s" in statement})
            print(
                f"generated {args.messages} messages + {args.messages // 5} voice notes "
                f"in {time.perf_counter() - started:.1f}s"
            )
            # Start from a quiet machine: the generated data written out now, not by the
            # checkpointer or the kernel's writeback while the writer's latency is measured.
            conn.execute("CHECKPOINT")
        os.sync()
        consolidate = str(Path(sys.executable).parent / "consolidate")
        result = run_live(
            database.url,
            database.environment(),
            consolidate,
            writes=args.writes,
            rate=args.rate,
            idle_seconds=args.idle,
            workers=args.workers,
            pause_ratio=args.pause_ratio,
        )
        report, outcome = result.report, result.outcome
        print(f"merge --workers {args.workers} --pause-ratio {args.pause_ratio}")
        print(f"writes: {dict(report.operations)} (errors: {len(report.errors)})")
        for window in ("idle", "merge", "after merge"):
            n = len(report.latencies.get(window, []))
            print(
                f"  {window:12s} n={n:6d}  p50 {report.median(window) * 1000:7.2f} ms  "
                f"p99 {report.percentile(window, 0.99) * 1000:7.2f} ms"
            )
        ratio = report.percentile("merge", 0.99) / report.percentile("idle", 0.99)
        print(f"p99 during merge / idle: {ratio:.2f} (target <= 2)")
        print(
            f"merge {result.merge_seconds:.1f}s (exit {result.merge_exit}), "
            f"cutover {result.cutover_seconds:.1f}s (exit {result.cutover_exit})"
        )
        print(
            f"rows written: {len(report.messages)} messages, {len(report.voice_notes)} voice notes; "
            f"missing {len(outcome.missing)}, stale {len(outcome.stale)}, duplicates {outcome.duplicates}"
        )
        failed = (
            report.errors
            or outcome.missing
            or outcome.stale
            or outcome.duplicates
            or result.merge_exit
            or result.cutover_exit
        )
        if failed:
            print(result.output[-2000:])
            print("\n".join(report.errors[:10] + outcome.missing[:10] + outcome.stale[:10]))
            sys.exit(1)
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
