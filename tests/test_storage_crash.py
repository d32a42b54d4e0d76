"""Crash: `consolidate storage apply` SIGKILLed mid-way, then re-run, ends exactly as an uninterrupted run."""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Iterator

import psycopg
import pytest
from conftest import build_hand_built, consolidate, store_state
from consolidation.storage_migration.backends.local import LocalBackend
from consolidation.storage_migration.inventory import load_inventory
from consolidation.storage_migration.references import api_key

from consolidation.core.config import Config
from consolidation.core.crash import CRASH_ENV
from consolidation.phases import storage_transfer as transfer
from consolidation.pytest_plugin import LocalCluster, LocalDatabase

CONFIG = Config()
# step:n = killed at the n-th copy (done, not yet journaled), the n-th rewrite inside its
# uncommitted batch, or after the n-th removal of sources before it is journaled.
CRASH_POINTS = [
    "storage.copy:1",
    "storage.copy:4",
    "storage.rewrite:1",
    "storage.rewrite:7",
    "storage.delete:1",
]
_numbers = itertools.count()


def storage(database: LocalDatabase, *arguments: str, crash_at: str | None = None) -> int:
    done = consolidate(database, "storage", *arguments, env={CRASH_ENV: crash_at} if crash_at else None)
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


def journal_state(conn: psycopg.Connection) -> tuple[list, list]:
    transfers = conn.execute(
        "SELECT source_bucket, source_name, dest_name, state, dest_sha256 "
        "FROM consolidation.storage_transfers ORDER BY 1, 2, 3"
    ).fetchall()
    rewrites = conn.execute(
        "SELECT table_name, row_id, column_name, json_path, old_value, new_value, state "
        "FROM consolidation.storage_rewrites ORDER BY 1, 2, 3, 4"
    ).fetchall()
    return transfers, rewrites


def references(conn: psycopg.Connection) -> list[tuple]:
    """Every file reference the rows hold (whole-row checksums differ by the rows' creation times)."""
    return conn.execute(
        "SELECT 'chat_messages', id, file_url, metadata FROM public.chat_messages "
        "UNION ALL SELECT 'messages', id, file_url, metadata FROM public.messages "
        "UNION ALL SELECT 'voice_notes', id, file_url, NULL FROM public.voice_notes ORDER BY 1, 2"
    ).fetchall()


def assert_no_source_lost(conn: psycopg.Connection, backend: LocalBackend) -> None:
    """Every legacy object gone from its bucket has all its copies verified, present and intact."""
    if not transfer.installed(conn, CONFIG):
        return
    present = store_state(backend)
    inventory = load_inventory(conn, CONFIG)
    for item in transfer.load_transfers(conn, CONFIG):
        if item.source in present:
            continue
        assert item.state in ("rewritten", "source_deleted"), item
        assert present[(item.dest_bucket, item.dest_name)] == inventory[item.source].sha256, item


@pytest.fixture
def uninterrupted(local_cluster: LocalCluster) -> Iterator[LocalDatabase]:
    database = local_cluster.create(f"test_storage_clean_{os.getpid()}_{next(_numbers)}")
    build_hand_built(database)
    assert storage(database, "--apply", "--force-order") == 0
    try:
        yield database
    finally:
        local_cluster.drop(database)


def state(database: LocalDatabase) -> tuple:
    backend = LocalBackend(database.url, database.store_root)
    try:
        with database.connect() as conn:
            recorded = journal_state(conn) if transfer.installed(conn, CONFIG) else None
            return references(conn), store_state(backend), recorded
    finally:
        backend.close()


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_killed_apply_resumes_to_the_uninterrupted_result(
    empty_db: LocalDatabase, uninterrupted: LocalDatabase, crash_at: str
) -> None:
    build_hand_built(empty_db)
    assert storage(empty_db, "--apply", "--force-order", crash_at=crash_at) == -signal.SIGKILL
    backend = LocalBackend(empty_db.url, empty_db.store_root)
    try:
        with empty_db.connect() as conn:
            assert_no_source_lost(conn, backend)
    finally:
        backend.close()
    assert storage(empty_db, "--apply", "--force-order") == 0
    assert state(empty_db) == state(uninterrupted)
    with empty_db.connect() as conn:
        transfers, rewrites = journal_state(conn)
    # Every source is deleted but the one whose key the Storage API could not write back.
    assert len(transfers) == 7
    states = {(api_key(row[1]), row[3]) for row in transfers}
    assert states == {(True, "source_deleted"), (False, "rewritten")}
    assert len(rewrites) == 11 and {row[6] for row in rewrites} == {"rewritten"}
    assert storage(empty_db, "verify") == 0


def test_killed_rollback_resumes_to_the_original(empty_db: LocalDatabase) -> None:
    build_hand_built(empty_db)
    before = state(empty_db)[:2]
    assert storage(empty_db, "plan") == 0
    assert state(empty_db)[:2] == before
    assert storage(empty_db, "--apply", "--force-order") == 0
    assert storage(empty_db, "rollback", "--apply", crash_at="storage.restore:3") == -signal.SIGKILL
    assert storage(empty_db, "rollback", "--apply") == 0
    assert state(empty_db)[:2] == before
