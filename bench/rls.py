"""bench/rls: a participant reads the latest 50 messages of one session among 1,000,000, with our
policies, with RLS off, and with naive per-row policies; prints times and ratios (target ours/off ≤ 1.3).

Usage: .venv/bin/python bench/rls.py [--messages 1000000] [--queries 300] [--dir STACK_DIR]
The messages are generated in SQL (10,000 sessions of two participants, 100 messages each by
default); every variant has the same (session_id, created_at DESC) index and runs as the
`authenticated` role with the participant's JWT claims, as PostgREST would.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import tempfile
import time
from pathlib import Path

import psycopg

from consolidation.core.config import Config
from consolidation.phases import driver
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema
from consolidation.stack import Stack

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "policy_sets"
READ = "SELECT * FROM public.chat_messages WHERE session_id = %s ORDER BY created_at DESC LIMIT 50"
GENERATE = """
INSERT INTO public.chat_sessions (id, participants, type, status)
SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(s), 12, '0'))::uuid,
       ARRAY[('00000000-0000-4000-b000-' || lpad(to_hex(2 * s), 12, '0'))::uuid,
             ('00000000-0000-4000-b000-' || lpad(to_hex(2 * s + 1), 12, '0'))::uuid],
       'direct', 'active'
FROM generate_series(1, %(sessions)s) AS s;
INSERT INTO public.chat_messages (session_id, sender_id, type, content, created_at)
SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(1 + n %% %(sessions)s), 12, '0'))::uuid,
       ('00000000-0000-4000-b000-' || lpad(to_hex(2 * (1 + n %% %(sessions)s) + n %% 2), 12, '0'))::uuid,
       'text', 'message ' || n, timestamptz '2024-01-01' + n * interval '1 second'
FROM generate_series(1, %(messages)s) AS n;
"""
SESSION = "00000000-0000-4000-a000-000000000001"
PARTICIPANT = "00000000-0000-4000-b000-000000000002"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _time_reads(database: LocalDatabase, queries: int) -> tuple[float, float]:
    """Median and p95 milliseconds of READ as the participant."""
    claims = json.dumps({"role": "authenticated", "sub": PARTICIPANT, "aud": "authenticated"})
    with psycopg.connect(database.url) as conn:
        conn.execute(
            "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
            [claims],
        )
        samples = []
        for n in range(queries + 20):
            started = time.perf_counter()
            rows = conn.execute(READ, [SESSION]).fetchall()
            if n >= 20:  # warm-up: plan cache, buffers
                samples.append((time.perf_counter() - started) * 1000)
            assert len(rows) == 50, len(rows)
        conn.rollback()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def bench(stack: Stack, messages: int, queries: int) -> None:
    cluster = LocalCluster(stack)
    database = cluster.create("bench_rls")
    config = Config()
    try:
        with database.connect() as conn:
            apply_legacy_schema(conn)
            started = time.perf_counter()
            for statement in GENERATE.split(";")[:-1]:
                conn.execute(statement, {"sessions": max(1, messages // 100), "messages": messages})
            conn.execute("CREATE INDEX ON public.chat_messages (session_id, created_at DESC)")
            conn.execute("VACUUM ANALYZE public.chat_messages")
            conn.execute("VACUUM ANALYZE public.chat_sessions")
            print(f"generated {messages:,} messages in {time.perf_counter() - started:.1f} s")
            results = {}
            ctx = driver.context(conn, config, database.url, force_order=True, command="bench rls")
            driver.apply_phase("policies", ctx)
            results["ours"] = _time_reads(database, queries)
            driver.rollback_phase("policies", ctx)
            conn.execute((FIXTURES / "handwritten_select_only" / "policies.sql").read_text())
            results["naive per-row"] = _time_reads(database, queries)
            conn.execute("ALTER TABLE public.chat_messages DISABLE ROW LEVEL SECURITY")
            conn.execute("ALTER TABLE public.chat_sessions DISABLE ROW LEVEL SECURITY")
            results["rls off"] = _time_reads(database, queries)
        off = results["rls off"][0]
        print(f"{'variant':<15} {'median ms':>10} {'p95 ms':>8} {'/ off':>6}")
        for name, (median, p95) in results.items():
            print(f"{name:<15} {median:>10.3f} {p95:>8.3f} {median / off:>6.2f}")
        ratio = results["ours"][0] / off
        print(
            f"ours / off = {ratio:.2f} (target ≤ 1.3: {'met' if ratio <= 1.3 else 'MISSED'}); "
            f"naive / ours = {results['naive per-row'][0] / results['ours'][0]:.2f}"
        )
    finally:
        cluster.drop(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=None, help="a running stack's folder")
    args = parser.parse_args()
    if args.dir:
        bench(Stack(args.dir), args.messages, args.queries)
        return
    directory = Path(tempfile.mkdtemp(prefix="bench-rls-"))
    stack = Stack(directory)
    stack.up(port=_free_port())
    try:
        bench(stack, args.messages, args.queries)
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
