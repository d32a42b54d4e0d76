"""bench/storage: the storage phase over N files of mixed sizes, against a plain copy of the same bytes.

Usage: .venv/bin/python bench/storage.py [--files 10000] [--concurrency 8]
       .venv/bin/python bench/storage.py --backend supabase --dir STACK_DIR [--files N] [--concurrency 8]
       .venv/bin/python bench/storage.py --rss-with-mb 1024 [--files N]
Starts a throwaway local stack, writes N objects to chat-attachments (85% 0.5-16 KB, 14% 16-128 KB,
1% 0.5-2 MB) with one chat message referring to each, copies the same files with shutil into a
scratch folder (the baseline), then times the whole storage apply through the local backend:
inventory (hash), copy, verify (hash again), rewrite, delete. Prints files/s, MB/s and the ratio.

With --backend supabase the files are written into the stack at --dir, which a real Storage API
server serves (../shared/storage-server/; CONSOLIDATION_STORAGE_URL and CONSOLIDATION_SERVICE_KEY
name it), with its legacy schema created there (a fresh stack: the bench adds rows and objects).
The baseline is a bare loop of the same server's calls at the same concurrency: a server-side
copy of every file, then their removal 500 a call; the figure is files/s of apply ÷ files/s of
that loop (target ≥ 0.7).

With --rss-with-mb M the files get one more object of M MB (referenced like the others), and
`consolidate storage --apply` runs as a child process: its peak RSS is printed (target ≤ 150 MB
with a 1 GB object), beside the peak RSS of `consolidate --help` in the same run (the baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from consolidation.storage_migration.backends.local import LocalBackend
from consolidation.storage_migration.backends.supabase_http import SupabaseStorageBackend
from consolidation.storage_migration.local_store import LocalStore, NewObject

from consolidation.core import journal
from consolidation.core.config import Config, Storage
from consolidation.phases import storage_transfer as transfer
from consolidation.pytest_plugin import LocalCluster, apply_legacy_schema
from consolidation.stack import Stack

SESSIONS = 500


def _size(chooser: random.Random) -> int:
    roll = chooser.random()
    if roll < 0.85:
        return chooser.randint(512, 16 * 1024)
    if roll < 0.99:
        return chooser.randint(16 * 1024, 128 * 1024)
    return chooser.randint(512 * 1024, 2 * 1024 * 1024)


def _objects(count: int) -> list[NewObject]:
    chooser = random.Random(4)
    now = datetime.now(UTC)
    return [
        NewObject(
            id=uuid.uuid4(), bucket="chat-attachments", name=f"u{n % 200}/{n}/file-{n}.bin",
            data=chooser.randbytes(_size(chooser)), content_type="application/octet-stream",
            version=str(uuid.uuid4()), created_at=now,
        )
        for n in range(count)
    ]


def _rows(conn: psycopg.Connection, count: int) -> None:
    conn.execute(
        """
        INSERT INTO public.chat_sessions (id, participants, type)
        SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(s), 12, '0'))::uuid,
               ARRAY[gen_random_uuid(), gen_random_uuid()], 'direct'
        FROM generate_series(0, %(sessions)s - 1) AS s;
        """,
        {"sessions": SESSIONS},
    )
    conn.execute(
        """
        INSERT INTO public.chat_messages (session_id, sender_id, type, file_url)
        SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(n %% %(sessions)s), 12, '0'))::uuid,
               ('00000000-0000-4000-8000-' || lpad(to_hex(n %% 200), 12, '0'))::uuid,
               'file', 'chat-attachments/u' || n %% 200 || '/' || n || '/file-' || n || '.bin'
        FROM generate_series(0, %(count)s - 1) AS n
        """,
        {"sessions": SESSIONS, "count": count},
    )


def bench_http(args: argparse.Namespace, config: Config) -> None:
    """apply through the real Storage API against a bare loop of its copy and remove calls."""
    url, key = os.environ.get("CONSOLIDATION_STORAGE_URL"), os.environ.get("CONSOLIDATION_SERVICE_KEY")
    if not (url and key and args.dir):
        raise SystemExit(
            "--backend supabase needs --dir and CONSOLIDATION_STORAGE_URL, CONSOLIDATION_SERVICE_KEY"
        )
    stack = Stack(args.dir)
    objects = _objects(args.files)
    total = sum(len(item.data) for item in objects)
    with psycopg.connect(stack.database_url(), autocommit=True) as conn:
        apply_legacy_schema(conn)
        journal.install(conn, config)
        with LocalStore(conn, stack.store_root) as store:
            store.put_many(objects)
        _rows(conn, args.files)
    print(f"{args.files} files, {total / 1e6:.1f} MB, concurrency {args.concurrency}, through {url}")
    backend = SupabaseStorageBackend(url, key, concurrency=args.concurrency)
    try:
        names = [item.name for item in objects]
        started = time.perf_counter()
        def bare_copy(name: str) -> None:
            backend.copy("chat-attachments", name, "chat-files", f"bare/{name}")

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(bare_copy, names))
        for start in range(0, len(names), 500):
            backend.remove("chat-files", [f"bare/{name}" for name in names[start:start + 500]])
        bare_seconds = time.perf_counter() - started
        with psycopg.connect(stack.database_url(), autocommit=True) as conn:
            started = time.perf_counter()
            result = transfer.apply(conn, config, backend)
            apply_seconds = time.perf_counter() - started
            report = transfer.verify(conn, config, backend)
    finally:
        backend.close()
    moved = result.counts["sources deleted (this run)"]
    print(f"storage apply:  {apply_seconds:7.2f}s  {args.files / apply_seconds:8.0f} files/s "
          f"({moved} moved, verify clean: {report.clean})")
    print(f"bare copy+remove calls: {bare_seconds:7.2f}s  {args.files / bare_seconds:8.0f} files/s")
    print(f"ratio (files/s of apply / of the bare calls): {bare_seconds / apply_seconds:.2f}  target >= 0.7")


def _child_peak_mb(argv: list[str], environment: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Peak RSS of one child process running ARGV (the children's maximum, read after it ends:
    each measurement is the first child of a fresh interpreter)."""
    code = (
        "import resource, subprocess, sys, json; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode, "
        "done.stdout[-2000:], done.stderr[-2000:]]))"
    )
    raw = subprocess.run([sys.executable, "-c", code, *argv], env=environment, capture_output=True, text=True,
                         check=True)
    peak_kb, returncode, out, err = json.loads(raw.stdout)
    return peak_kb / 1024, subprocess.CompletedProcess(argv, returncode, out, err)


def bench_rss(args: argparse.Namespace, config: Config) -> None:
    """Peak RSS of `consolidate storage --apply` with one large object among the files."""
    directory = Path(tempfile.mkdtemp(prefix="bench-storage-rss-"))
    stack = Stack(directory)
    stack.up()
    try:
        database = LocalCluster(stack).create("bench_storage_rss")
        objects = _objects(args.files - 1)
        big = NewObject(
            id=uuid.uuid4(), bucket="chat-attachments",
            name=f"u{(args.files - 1) % 200}/{args.files - 1}/file-{args.files - 1}.bin",
            data=random.Random(5).randbytes(1 << 20) * args.rss_with_mb,
            content_type="application/octet-stream", version=str(uuid.uuid4()), created_at=datetime.now(UTC),
        )
        with psycopg.connect(database.url, autocommit=True) as conn:
            apply_legacy_schema(conn)
            journal.install(conn, config)
            with LocalStore(conn, database.store_root) as store:
                store.put_many([*objects, big])
            _rows(conn, args.files)
        del objects, big
        environment = {**os.environ, **database.environment()}
        consolidate = str(Path(sys.executable).parent / "consolidate")
        baseline, _ = _child_peak_mb([consolidate, "--help"], environment)
        started = time.perf_counter()
        peak, done = _child_peak_mb([consolidate, "storage", "--apply", "--force-order"], environment)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"storage --apply exited {done.returncode}: {done.stderr}")
        with psycopg.connect(database.url) as conn:
            moved = conn.execute(
                "SELECT (metadata->>'size')::bigint FROM storage.objects WHERE bucket_id = 'chat-files'"
                " ORDER BY 1 DESC LIMIT 1"
            ).fetchone()
        print(f"{args.files} files, one of them {args.rss_with_mb} MB: storage --apply in {seconds:.1f} s; "
              f"the largest object in chat-files now: {moved[0] / 2**20 if moved else 0:.0f} MB")
        print(f"peak RSS: storage --apply {peak:.0f} MB, consolidate --help {baseline:.0f} MB "
              f"(target <= 150 MB with a 1 GB object)")
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--backend", choices=("local", "supabase"), default="local")
    parser.add_argument("--dir", type=Path, default=None, help="the stack a Storage API server serves")
    parser.add_argument("--rss-with-mb", type=int, default=0, help="add one object of this size; peak RSS")
    args = parser.parse_args()
    config = Config(storage=Storage(concurrency=args.concurrency))
    if args.rss_with_mb:
        bench_rss(args, config)
        return
    if args.backend == "supabase":
        bench_http(args, config)
        return

    directory = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    stack = Stack(directory)
    stack.up()
    try:
        database = LocalCluster(stack).create("bench_storage")
        objects = _objects(args.files)
        total = sum(len(item.data) for item in objects)
        with psycopg.connect(database.url, autocommit=True) as conn:
            apply_legacy_schema(conn)
            journal.install(conn, config)
            with LocalStore(conn, database.store_root) as store:
                store.put_many(objects)
                sources = [store.file_path(item.bucket, item.name, item.version) for item in objects]
            _rows(conn, args.files)
        print(f"{args.files} files, {total / 1e6:.1f} MB, concurrency {args.concurrency}")

        scratch = directory / "plain-copy"
        started = time.perf_counter()
        for number, source in enumerate(sources):
            target = scratch / str(number // 1000) / str(number)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        plain_seconds = time.perf_counter() - started
        shutil.rmtree(scratch)

        backend = LocalBackend(database.url, database.store_root, concurrency=args.concurrency)
        with psycopg.connect(database.url, autocommit=True) as conn:
            started = time.perf_counter()
            result = transfer.apply(conn, config, backend)
            apply_seconds = time.perf_counter() - started
            report = transfer.verify(conn, config, backend)
        backend.close()
        moved = result.counts["sources deleted (this run)"]
        print(f"storage apply:  {apply_seconds:7.2f}s  {args.files / apply_seconds:8.0f} files/s "
              f"{total / 1e6 / apply_seconds:7.1f} MB/s  ({moved} moved, verify clean: {report.clean})")
        print(f"plain copy:     {plain_seconds:7.2f}s  {args.files / plain_seconds:8.0f} files/s "
              f"{total / 1e6 / plain_seconds:7.1f} MB/s")
        print(f"ratio (apply / plain copy): {apply_seconds / plain_seconds:.1f}")
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
