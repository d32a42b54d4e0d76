"""Crash: merge SIGKILLed after or inside a batch, then re-run, ends exactly as an uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest
from conftest import apply, consolidate, load_hand_built
from psycopg import sql

from consolidation.core import journal
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.crash import CRASH_ENV
from consolidation.core.db import table_checksum
from consolidation.phases import verify
from consolidation.pytest_plugin import LocalCluster, LocalDatabase

BATCH_SIZE = "2"  # 13 messages -> batches 1..7, 5 voice notes -> batches 8..10
COMPARED = [
    ("public", "chat_messages"),
    ("public", "chat_sessions"),
    ("consolidation", "provenance"),
    ("consolidation", "quarantine"),
    ("consolidation", "excluded"),
    ("consolidation", "session_changes"),
    ("consolidation", "message_sequence"),
]
# (hook, batch): killed after committing that batch, or inside it before its commit.
CRASH_POINTS = [
    ("merge.after_batch", 1),
    ("merge.after_batch", 4),
    ("merge.after_batch", 7),
    ("merge.in_batch", 1),
    ("merge.in_batch", 5),
    ("merge.in_batch", 9),
]


def prepared(cluster: LocalCluster, name: str) -> LocalDatabase:
    database = cluster.create(name)
    load_hand_built(database)
    apply(database, "backup")
    return database


def merge(database: LocalDatabase, crash_at: str | None = None) -> subprocess.CompletedProcess:
    return consolidate(
        database,
        "merge",
        "--apply",
        "--batch-size",
        BATCH_SIZE,
        env={CRASH_ENV: crash_at} if crash_at else None,
    )


def state(database: LocalDatabase) -> dict[str, str]:
    with database.connect() as conn:
        fix_output_settings(conn)
        return {
            f"{schema}.{name}": table_checksum(conn, sql.Identifier(schema, name)).digest
            for schema, name in COMPARED
        }


@pytest.fixture(scope="module")
def uninterrupted(local_cluster: LocalCluster) -> Iterator[dict[str, str]]:
    database = prepared(local_cluster, "crash_reference")
    try:
        assert merge(database).returncode == 0
        yield state(database)
    finally:
        local_cluster.drop(database)


@pytest.mark.parametrize("hook, batch", CRASH_POINTS, ids=[f"{h.split('.')[1]}-{b}" for h, b in CRASH_POINTS])
def test_killed_merge_resumes_to_the_uninterrupted_state(
    local_cluster: LocalCluster, uninterrupted: dict[str, str], hook: str, batch: int
) -> None:
    database = prepared(local_cluster, f"crash_{hook.split('.')[1]}_{batch}")
    try:
        killed = merge(database, f"{hook}:{batch}")
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        with database.connect() as conn:
            committed = conn.execute(
                "SELECT coalesce(sum(batches), 0) FROM consolidation.high_water"
            ).fetchone()[0]
            running = journal.latest(conn, Config(), "merge", status="running")
        # The hook counts commits across workers: by the time it kills, the other worker may have
        # committed a batch more than the count it saw (and the in-batch check may have seen one).
        expected = batch if hook == "merge.after_batch" else batch - 1
        assert expected <= committed <= expected + Config().merge.workers
        assert running is not None, "the killed run leaves its 'running' record"
        resumed = merge(database)
        assert resumed.returncode == 0, resumed.stderr
        with database.connect() as conn:
            assert journal.latest(conn, Config(), "merge", status="interrupted")["id"] == running["id"]
        assert state(database) == uninterrupted
        with database.connect() as conn:
            assert verify.run(conn, Config()).clean
    finally:
        local_cluster.drop(database)
