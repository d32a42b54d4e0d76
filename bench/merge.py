"""bench/merge: the merge's wall time against one bare INSERT ... SELECT of the same rows, and its peak RSS.

Usage: .venv/bin/python bench/merge.py [--messages 1000000] [--voice-notes 200000] [--batch-size N]
                                       [--workers N]
Starts a throwaway local stack, generates the legacy data set-based in SQL, runs
`consolidate merge --apply` as a child process (so its peak RSS is the tool's own) on a copy of
it with the configured workers and on another with one worker, then times a bare
INSERT ... SELECT of the same rows into a scratch copy of chat_messages in the same run.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from consolidation.core.config import Config
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema
from consolidation.stack import Stack

GENERATE = """
INSERT INTO auth.users (id, email)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'u' || i || '@bench.test'
FROM generate_series(1, %(users)s) AS i;
INSERT INTO public.profiles (id, role)
SELECT id, CASE WHEN random() < 0.1 THEN 'reader' ELSE 'user' END FROM auth.users;
INSERT INTO public.bookings (id, user_id, reader_id, status, created_at)
SELECT gen_random_uuid(),
       ('00000000-0000-4000-8000-' || lpad(to_hex(1 + (i * 7) %% %(users)s), 12, '0'))
         ::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex(1 + (i * 13) %% %(users)s), 12, '0'))
         ::uuid,
       (ARRAY['pending', 'active', 'completed', 'cancelled'])[1 + i %% 4], now() - interval '400 days'
FROM generate_series(1, %(bookings)s) AS i;
CREATE TEMP TABLE booking_ids AS
SELECT row_number() OVER () AS n, id, user_id, reader_id FROM public.bookings;
INSERT INTO public.messages (booking_id, sender_id, recipient_id, type, content, file_url, metadata,
                             created_at)
SELECT CASE WHEN i %% 10 < 9 THEN b.id END,
       CASE WHEN i %% 2 = 0 THEN b.user_id ELSE b.reader_id END,
       CASE WHEN i %% 10 = 9 THEN b.reader_id END,
       (ARRAY['text', 'text', 'text', 'image', 'file', 'voice'])[1 + i %% 6],
       'message ' || i || ' ' || repeat('x', i %% 80),
       CASE WHEN i %% 6 >= 3 THEN 'chat-attachments/' || b.id || '/' || i || '.bin' END,
       jsonb_build_object('n', i),
       now() - interval '1 second' * (%(messages)s - i)
FROM generate_series(1, %(messages)s) AS i
JOIN booking_ids AS b ON b.n = 1 + i %% %(bookings)s;
INSERT INTO public.voice_notes (user_id, context_type, context_id, file_url, file_name, file_size,
                                duration_seconds, created_at)
SELECT b.user_id, CASE WHEN i %% 5 = 0 THEN 'profile' ELSE 'chat' END, b.id,
       'voice-notes/' || b.user_id || '/' || i || '.webm', i || '.webm', 1000 + i, (i %% 600) / 10.0,
       now() - interval '1 second' * (%(voice_notes)s - i)
FROM generate_series(1, %(voice_notes)s) AS i
JOIN booking_ids AS b ON b.n = 1 + i %% %(bookings)s;
-- A production table is old and vacuumed: the generated one is too, before anything is timed
-- (else autovacuum would visit it during the first timed run).
VACUUM (ANALYZE);
"""

BARE_INSERT = """
CREATE TABLE public.bench_scratch (LIKE public.chat_messages INCLUDING ALL);
INSERT INTO public.bench_scratch (session_id, sender_id, type, content, file_url, file_name, file_size,
                                  duration_seconds, metadata, created_at)
SELECT booking_id, sender_id, CASE type WHEN 'voice' THEN 'audio' ELSE type END, content, file_url,
       NULL, NULL, NULL, metadata, created_at
FROM public.messages
UNION ALL
SELECT context_id, user_id, 'audio', NULL, file_url, file_name, file_size, duration_seconds, '{}', created_at
FROM public.voice_notes WHERE context_type = 'chat';
"""


def _checkpoint(stack: Stack) -> None:
    # Each timed run starts with no dirty buffers from the one before (a checkpoint triggered by
    # the previous run's WAL would otherwise land in this one's time). CHECKPOINT is the
    # superuser's: postgres is demoted, as on Supabase.
    with psycopg.connect(stack.admin_url(), autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def _merge(stack: Stack, database: LocalDatabase, workers: int, batch_size: int | None) -> float:
    _checkpoint(stack)
    command = [str(Path(sys.executable).parent / "consolidate"), "merge", "--apply", "--force-order"]
    command += ["--workers", str(workers)]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    started = time.perf_counter()
    done = subprocess.run(command, env=database.environment(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"merge failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--voice-notes", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--workers", type=int, default=Config().merge.workers)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-merge-"))
    stack = Stack(directory)
    stack.up()
    try:
        cluster = LocalCluster(stack)
        source = cluster.create("bench_source")
        with psycopg.connect(source.url, autocommit=True) as conn:
            apply_legacy_schema(conn)
            started = time.perf_counter()
            sizes = {
                "users": 5000,
                "bookings": max(args.messages // 50, 10),
                "messages": args.messages,
                "voice_notes": args.voice_notes,
            }
            for statement in filter(str.strip, GENERATE.split(";\n")):
                conn.execute(statement, {k: v for k, v in sizes.items() if f"%({k})s" in statement})
            print(
                f"generated {args.messages} messages + {args.voice_notes} voice notes "
                f"in {time.perf_counter() - started:.1f}s"
            )
        # Each merge on its own copy of the generated data: the configured workers, then one.
        seconds: dict[int, float] = {}
        for workers in dict.fromkeys((args.workers, 1)):
            copy = cluster.create(f"bench_merge_{workers}", template=source)
            seconds[workers] = _merge(stack, copy, workers, args.batch_size)
            with psycopg.connect(copy.url, autocommit=True) as conn:
                migrated = conn.execute("SELECT count(*) FROM consolidation.provenance").fetchone()[0]
            cluster.drop(copy)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        _checkpoint(stack)
        with psycopg.connect(source.url, autocommit=True) as conn:
            started = time.perf_counter()
            conn.execute(BARE_INSERT)
            bare_seconds = time.perf_counter() - started
            bare_rows = conn.execute("SELECT count(*) FROM public.bench_scratch").fetchone()[0]
        print(f"bare INSERT ... SELECT: {bare_seconds:6.1f}s  ({bare_rows} rows)")
        for workers, taken in seconds.items():
            print(
                f"merge, {workers} worker{'s' if workers > 1 else ' '}: {taken:8.1f}s  "
                f"({migrated} rows with provenance)  ratio {taken / bare_seconds:.2f}"
            )
        print(
            f"ratio:                {seconds[args.workers] / bare_seconds:8.2f}  "
            f"({args.workers} workers; target <= 1.5 now, 1.2 later)"
        )
        print(f"peak RSS (tool):      {peak_rss_mb:8.1f} MB (target <= 150)")
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
