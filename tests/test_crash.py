"""Crash: merge SIGKILLed after or inside a batch, then re-run, ends exactly as an uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from consolidation.core import journal
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.phases import backup, verify
from consolidation.phases.merge import CRASH_AFTER_BATCH_ENV, CRASH_IN_BATCH_ENV
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema

FIXTURES = Path(__file__).parent / "fixtures/merge"
CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")
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
    (CRASH_AFTER_BATCH_ENV, 1),
    (CRASH_AFTER_BATCH_ENV, 4),
    (CRASH_AFTER_BATCH_ENV, 7),
    (CRASH_IN_BATCH_ENV, 1),
    (CRASH_IN_BATCH_ENV, 5),
    (CRASH_IN_BATCH_ENV, 9),
]


def prepared(cluster: LocalCluster, name: str) -> LocalDatabase:
    database = cluster.create(name)
    with database.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute((FIXTURES / "hand_built.sql").read_text())
        backup.apply(conn, Config(), journal.start_run(conn, Config(), "test"))
    return database


def merge(database: LocalDatabase, **hooks: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CONSOLIDATE, "merge", "--apply", "--batch-size", BATCH_SIZE],
        env={**database.environment(), **hooks},
        capture_output=True,
        text=True,
        timeout=120,
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


@pytest.mark.parametrize(
    "hook, batch", CRASH_POINTS, ids=[f"{h.split('_')[2].lower()}-{b}" for h, b in CRASH_POINTS]
)
def test_killed_merge_resumes_to_the_uninterrupted_state(
    local_cluster: LocalCluster, uninterrupted: dict[str, str], hook: str, batch: int
) -> None:
    database = prepared(local_cluster, f"crash_{hook.split('_')[2].lower()}_{batch}")
    try:
        killed = merge(database, **{hook: str(batch)})
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        with database.connect() as conn:
            committed = conn.execute(
                "SELECT coalesce(sum(batches), 0) FROM consolidation.high_water"
            ).fetchone()[0]
            running = journal.latest(conn, Config(), "merge", status="running")
        # The hook counts commits across workers: by the time it kills, the other worker may have
        # committed a batch more than the count it saw (and the in-batch check may have seen one).
        expected = batch if hook == CRASH_AFTER_BATCH_ENV else batch - 1
        assert expected <= committed <= expected + Config().merge.workers
        assert running is not None, "the killed run leaves its 'running' record"
        resumed = merge(database)
        assert resumed.returncode == 0, resumed.stderr
        assert state(database) == uninterrupted
        with database.connect() as conn:
            assert verify.run(conn, Config()).clean
    finally:
        local_cluster.drop(database)
