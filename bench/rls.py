"""bench/rls: the access policy's cost as a participant, against a baseline measured in the same run.

messages: a participant reads the latest 50 messages of one session among 1,000,000, with our
policies, with RLS off, and with naive per-row policies (target ours/off ≤ 1.3).
storage: 300,000 objects in chat-files, 200 per session; a participant lists their own folder of
a session (100 names) and reads one object, against service_role (which bypasses RLS), in SQL as
the Storage API runs it — and, with --storage-url, through the real Storage API server, where it
also lists the session folder (targets: listing ≤ 3×, reading ≤ 1.5× service_role). A listing
costs per file the participant may read, not per file in the bucket: --user-sessions (default 1,
as in the messages case) sets how many sessions, of 200 files each, every user is in.

Usage: .venv/bin/python bench/rls.py [--cases messages,storage] [--messages 1000000]
       [--objects 300000] [--user-sessions 1] [--queries 300] [--http-queries 30] [--dir STACK_DIR]
       [--storage-url URL --dir STACK_DIR]   # the stack the Storage API server runs on
Every SQL variant runs as the role and JWT claims PostgREST or the Storage API would set; the
storage case's SQL is the Storage API's own: the list route's search reads a folder of files with
a peek and a batch over `lower(name) COLLATE "C"` ranges, a download reads the object by name.
With --storage-url the storage case works in the stack's own database (where the server's
migrations ran), adds its rows and removes them afterwards; CONSOLIDATION_SERVICE_KEY and
STORAGE_JWT_SECRET (as ../shared/storage-server/run.sh exports them) sign the requests.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
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

# The storage world: S sessions (ids that look random, so folders spread over the bucket) of two
# participants, users u = s % U and (s + U / 2) % U of U = 2S / k, so that each user is in k
# sessions; object n lies in session n % S, under its first participant when n / S is even.
FILES_PER_SESSION = 200
SECRET_ENV, SERVICE_KEY_ENV = "STORAGE_JWT_SECRET", "CONSOLIDATION_SERVICE_KEY"
STORAGE_SESSIONS = """
CREATE TEMP TABLE bench_sessions ON COMMIT DROP AS
SELECT s, md5('bench-rls-session-' || s)::uuid AS id,
       ('00000000-0000-4000-b000-' || lpad(to_hex(1 + s %% %(users)s), 12, '0'))::uuid AS first,
       ('00000000-0000-4000-b000-'
        || lpad(to_hex(1 + (s + %(users)s / 2) %% %(users)s), 12, '0'))::uuid AS second
FROM generate_series(0, %(sessions)s - 1) AS s;
INSERT INTO public.chat_sessions (id, participants, type, status)
SELECT id, ARRAY[first, second], 'direct', 'active' FROM bench_sessions;
INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata, version)
SELECT 'chat-files', o.name, o.sender, o.sender::text,
       '{"size": 1024, "mimetype": "application/octet-stream"}', 'bench'
FROM generate_series(0, %(objects)s - 1) AS n
JOIN bench_sessions AS b ON b.s = n %% %(sessions)s
CROSS JOIN LATERAL (SELECT CASE WHEN (n / %(sessions)s) %% 2 = 0 THEN b.first ELSE b.second END) AS w (sender)
CROSS JOIN LATERAL (SELECT b.id || '/' || w.sender || '/file-' || (n / %(sessions)s) || '.bin', w.sender)
  AS o (name, sender)
"""
STORAGE_CLEANUP = """
SELECT set_config('storage.allow_delete_query', 'true', true);
DELETE FROM storage.objects
WHERE bucket_id = 'chat-files' AND version = 'bench'
  AND split_part(name, '/', 1)::uuid IN (SELECT md5('bench-rls-session-' || s)::uuid
                                         FROM generate_series(0, %(sessions)s - 1) AS s);
DELETE FROM public.chat_sessions
WHERE id IN (SELECT md5('bench-rls-session-' || s)::uuid FROM generate_series(0, %(sessions)s - 1) AS s);
"""
# The two statements the list route's storage.search runs for a folder of files (a peek for the
# first name, then a batch of up to twice the limit), and the download route's lookup by name.
LIST_PEEK = """
SELECT o.name FROM storage.objects o
WHERE o.bucket_id = %(bucket)s
  AND lower(o.name) COLLATE "C" >= %(low)s AND lower(o.name) COLLATE "C" < %(high)s
ORDER BY lower(o.name) COLLATE "C" ASC LIMIT 1
"""
LIST_BATCH = """
SELECT o.name, o.id, o.updated_at, o.created_at, o.last_accessed_at, o.metadata FROM storage.objects o
WHERE o.bucket_id = %(bucket)s
  AND lower(o.name) COLLATE "C" >= %(low)s AND lower(o.name) COLLATE "C" < %(high)s
ORDER BY lower(o.name) COLLATE "C" ASC LIMIT 200
"""
FIND_OBJECT = "SELECT * FROM storage.objects WHERE name = %(name)s AND bucket_id = %(bucket)s LIMIT 1"
# The read policy as it was before it narrowed through the indexes: storage.foldername() per row.
PER_ROW_READ = """
DROP POLICY "chat files: reads narrowed by index" ON storage.objects;
DROP POLICY "chat files: participants and admins read" ON storage.objects;
CREATE POLICY "chat files: participants and admins read" ON storage.objects
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (bucket_id = 'chat-files'
         AND ((storage.foldername(name))[1] IN (SELECT mine::text
                                                FROM chat_private.my_chat_sessions() AS mine)
              OR (SELECT chat_private.is_chat_admin())));
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _time(action: Callable[[], object], queries: int, warmup: int = 20) -> tuple[float, float]:
    """Median and p95 milliseconds of ACTION, after WARMUP runs (plan cache, buffers)."""
    samples = []
    for n in range(queries + warmup):
        started = time.perf_counter()
        action()
        if n >= warmup:
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def _time_reads(database: LocalDatabase, queries: int) -> tuple[float, float]:
    """Median and p95 milliseconds of READ as the participant."""
    claims = json.dumps({"role": "authenticated", "sub": PARTICIPANT, "aud": "authenticated"})
    with psycopg.connect(database.url) as conn:
        conn.execute(
            "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
            [claims],
        )

        def read() -> None:
            rows = conn.execute(READ, [SESSION]).fetchall()
            assert len(rows) == 50, len(rows)

        timing = _time(read, queries)
        conn.rollback()
    return timing


def bench_messages(cluster: LocalCluster, messages: int, queries: int) -> None:
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


class StorageWorld:
    """The storage case's sizes and the participant's names in it."""

    def __init__(self, objects: int, user_sessions: int) -> None:
        self.sessions = max(1, objects // FILES_PER_SESSION)
        self.users = max(2, 2 * self.sessions // max(1, user_sessions))
        self.objects = objects
        self.user_sessions = 2 * self.sessions // self.users
        # Session 0 belongs first to user 1: list and read in user 1's own folder of it.
        self.participant = f"00000000-0000-4000-b000-{1:012x}"
        digest = hashlib.md5(b"bench-rls-session-0").hexdigest()
        self.session = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"
        self.folder = f"{self.session}/{self.participant}/"
        self.read_name = f"{self.folder}bench-read.txt"

    def params(self) -> dict[str, int]:
        return {"sessions": self.sessions, "users": self.users, "objects": self.objects}

    def list_bounds(self) -> dict[str, str]:
        low = self.folder.lower()
        return {"bucket": "chat-files", "low": low, "high": low[:-1] + chr(ord("/") + 1)}


def _as(conn: psycopg.Connection, persona: str, world: StorageWorld, operation: str) -> None:
    """Set CONN's transaction up as the Storage API does for PERSONA's request."""
    if persona == "service_role":
        claims: dict[str, str] = {"role": "service_role"}
    else:
        claims = {"role": "authenticated", "sub": world.participant, "aud": "authenticated"}
    conn.execute(
        "SELECT set_config('role', %(role)s, true), set_config('request.jwt.claim.role', %(role)s, true),"
        " set_config('request.jwt.claims', %(claims)s, true),"
        " set_config('request.jwt.claim.sub', %(sub)s, true), set_config('storage.operation', %(op)s, true)",
        {"role": claims["role"], "claims": json.dumps(claims), "sub": claims.get("sub", ""), "op": operation},
    )


def _storage_sql(
    conn: psycopg.Connection, world: StorageWorld, persona: str
) -> dict[str, Callable[[], None]]:
    """The storage operations as PERSONA, each in its own transaction as the Storage API runs it."""
    bounds = world.list_bounds()
    found = {"bucket": "chat-files", "name": world.read_name}

    def listing() -> None:
        with conn.transaction(force_rollback=True):
            _as(conn, persona, world, "storage.object.list")
            assert conn.execute(LIST_PEEK, bounds).fetchone() is not None
            names = conn.execute(LIST_BATCH, bounds).fetchall()
            assert len(names) >= 100, len(names)

    def reading() -> None:
        with conn.transaction(force_rollback=True):
            _as(conn, persona, world, "storage.object.get_authenticated")
            assert conn.execute(FIND_OBJECT, found).fetchone() is not None

    return {"list own folder (100 names)": listing, "read one object": reading}


def _time_side_by_side(
    ours: dict[str, Callable[[], None]], base: dict[str, Callable[[], None]], queries: int, warmup: int
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """Median and p95 ms of each operation of OURS and of BASE, run alternately so that both
    see the same load on a shared machine."""
    timings: tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]] = ({}, {})
    for operation in ours:
        samples: tuple[list[float], list[float]] = ([], [])
        for n in range(queries + warmup):
            for side, actions in enumerate((ours, base)):
                started = time.perf_counter()
                actions[operation]()
                if n >= warmup:
                    samples[side].append((time.perf_counter() - started) * 1000)
        for side in (0, 1):
            ordered = sorted(samples[side])
            timings[side][operation] = (
                statistics.median(ordered),
                ordered[max(0, int(len(ordered) * 0.95) - 1)],
            )
    return timings


def _jwt(secret: str, claims: dict[str, str]) -> str:
    """An HS256 token with exactly CLAIMS, as Supabase Auth signs them."""

    def segment(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = segment(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = segment(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{segment(mac)}"


def _storage_http(client: httpx.Client, world: StorageWorld, token: str) -> dict[str, Callable[[], None]]:
    """The storage operations through the Storage API with TOKEN, as supabase-js sends them."""
    headers = {"Authorization": f"Bearer {token}", "apikey": token}

    def listing(prefix: str, at_least: int) -> Callable[[], None]:
        def run() -> None:
            response = client.post(
                "/storage/v1/object/list/chat-files", json={"prefix": prefix, "limit": 100}, headers=headers
            )
            response.raise_for_status()
            assert len(response.json()) >= at_least, response.text[:200]

        return run

    def reading() -> None:
        response = client.get(
            f"/storage/v1/object/authenticated/chat-files/{quote(world.read_name)}", headers=headers
        )
        response.raise_for_status()

    def listing_v2(prefix: str) -> None:
        response = client.post(
            "/storage/v1/object/list-v2/chat-files",
            json={"prefix": prefix, "limit": 100, "with_delimiter": True},
            headers=headers,
        )
        response.raise_for_status()
        assert len(response.json()["folders"]) >= 2, response.text[:200]

    return {
        "list session folder": listing(world.session, 2),
        "list own folder (100 names)": listing(world.folder, 100),
        "read one object": reading,
        "list-v2 session folder": lambda: listing_v2(f"{world.session}/"),
    }


def _print_ratios(
    title: str,
    ours: dict[str, tuple[float, float]],
    base: dict[str, tuple[float, float]],
    targets: dict[str, float],
) -> None:
    print(title)
    print(f"  {'operation':<30} {'participant ms':>15} {'service_role ms':>16} {'ratio':>6}")
    for operation, (median, _p95) in ours.items():
        ratio = median / base[operation][0]
        target = next((t for key, t in targets.items() if operation.startswith(key)), None)
        verdict = "" if target is None else f"  target ≤ {target:g}: {'met' if ratio <= target else 'MISSED'}"
        print(f"  {operation:<30} {median:>15.3f} {base[operation][0]:>16.3f} {ratio:>6.2f}{verdict}")


def bench_storage(url: str, args: argparse.Namespace, storage_url: str | None) -> None:
    """The storage case on the database at URL, which it leaves as it found it."""
    objects, queries = args.objects, args.queries
    world = StorageWorld(objects, args.user_sessions)
    config = Config()
    targets = {"list": 3.0, "read": 1.5}
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        with conn.transaction():
            for statement in STORAGE_SESSIONS.split(";"):
                conn.execute(statement, world.params())
        conn.execute(
            "INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata, version)"
            " VALUES ('chat-files', %s, %s, %s, '{\"size\": 5, \"mimetype\": \"text/plain\"}', 'bench')",
            [world.read_name, world.participant, world.participant],
        )
        conn.execute("VACUUM ANALYZE storage.objects")
        conn.execute("VACUUM ANALYZE public.chat_sessions")
        print(
            f"generated {objects:,} objects in {world.sessions:,} sessions"
            f" in {time.perf_counter() - started:.1f} s; the participant, in {world.user_sessions} of them"
            f" ({world.user_sessions * FILES_PER_SESSION:,} files), lists {world.folder}"
        )
        ctx = driver.context(conn, config, url, force_order=True, command="bench rls")
        driver.apply_phase("policies", ctx)
        try:
            with psycopg.connect(url) as mine, psycopg.connect(url) as service:
                ours, base = _time_side_by_side(
                    _storage_sql(mine, world, "participant"),
                    _storage_sql(service, world, "service_role"),
                    queries,
                    min(queries, 10),
                )
                _print_ratios("storage, in SQL as the Storage API runs it:", ours, base, {})
            if storage_url:
                _bench_http(conn, storage_url, world, args.http_queries, targets)
            conn.execute(PER_ROW_READ)
            with psycopg.connect(url) as mine, psycopg.connect(url) as service:
                slow, base = _time_side_by_side(
                    {"list": _storage_sql(mine, world, "participant")["list own folder (100 names)"]},
                    {"list": _storage_sql(service, world, "service_role")["list own folder (100 names)"]},
                    min(queries, 5),
                    1,
                )
            listed = slow["list"][0]
            print(
                f"  before (storage.foldername() per row): list {listed:.1f} ms,"
                f" {listed / base['list'][0]:.0f}× service_role"
            )
        finally:
            driver.rollback_phase("policies", ctx)
            with conn.transaction():
                for statement in STORAGE_CLEANUP.split(";")[:-1]:
                    conn.execute(statement, world.params())


def _bench_http(
    conn: psycopg.Connection, storage_url: str, world: StorageWorld, queries: int, targets: dict[str, float]
) -> None:
    secret, service_key = os.environ[SECRET_ENV], os.environ[SERVICE_KEY_ENV]
    participant = _jwt(secret, {"sub": world.participant, "role": "authenticated", "aud": "authenticated"})
    with httpx.Client(base_url=storage_url, timeout=60) as client:
        # The object to read needs its bytes in the server's file store: upload them through it.
        with conn.transaction():
            conn.execute("SELECT set_config('storage.allow_delete_query', 'true', true)")
            conn.execute(
                "DELETE FROM storage.objects WHERE bucket_id = 'chat-files' AND name = %s", [world.read_name]
            )
        uploaded = client.post(
            f"/storage/v1/object/chat-files/{quote(world.read_name)}",
            content=b"hello",
            headers={
                "Authorization": f"Bearer {service_key}",
                "apikey": service_key,
                "content-type": "text/plain",
            },
        )
        uploaded.raise_for_status()
        try:
            ours, base = _time_side_by_side(
                _storage_http(client, world, participant),
                _storage_http(client, world, service_key),
                queries,
                min(queries, 3),
            )
        finally:
            client.delete(
                f"/storage/v1/object/chat-files/{quote(world.read_name)}",
                headers={"Authorization": f"Bearer {service_key}", "apikey": service_key},
            ).raise_for_status()
        _print_ratios(f"storage, through the Storage API at {storage_url}:", ours, base, targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="messages,storage", help="messages, storage or both")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--objects", type=int, default=300_000)
    parser.add_argument("--user-sessions", type=int, default=1, help="sessions each user is in (storage)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--http-queries", type=int, default=30)
    parser.add_argument("--dir", type=Path, default=None, help="a running stack's folder")
    parser.add_argument(
        "--storage-url", default=None, help="the project URL of a Storage API server on --dir's stack"
    )
    args = parser.parse_args()
    cases = {c.strip() for c in args.cases.split(",") if c.strip()}
    if args.storage_url and not args.dir:
        parser.error("--storage-url needs --dir: the stack whose database the server uses")
    if args.storage_url and not (os.environ.get(SECRET_ENV) and os.environ.get(SERVICE_KEY_ENV)):
        parser.error(f"--storage-url needs {SECRET_ENV} and {SERVICE_KEY_ENV} (run.sh exports them)")

    def run(stack: Stack) -> None:
        if "messages" in cases:
            bench_messages(LocalCluster(stack), args.messages, args.queries)
        if "storage" in cases and args.storage_url:
            bench_storage(stack.database_url(), args, args.storage_url)
        elif "storage" in cases:
            cluster = LocalCluster(stack)
            database = cluster.create("bench_rls_storage")
            try:
                with database.connect() as conn:
                    apply_legacy_schema(conn)  # with its buckets and their legacy policies
                bench_storage(database.url, args, None)
            finally:
                cluster.drop(database)

    if args.dir:
        run(Stack(args.dir))
        return
    directory = Path(tempfile.mkdtemp(prefix="bench-rls-"))
    stack = Stack(directory)
    stack.up(port=_free_port())
    try:
        run(stack)
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
