"""Rollback: merge's rollback removes exactly what merge created and proves the pre-merge checksums."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from consolidation.core import journal
from consolidation.core.checksums import chat_checksums, fix_output_settings
from consolidation.core.config import Config
from consolidation.core.errors import FindingsError, PhaseOrderError
from consolidation.phases import backup, merge, rollback, verify
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

FIXTURES = Path(__file__).parent / "fixtures/merge"
CONFIG = Config()


@pytest.fixture
def conn(empty_db: LocalDatabase) -> psycopg.Connection:
    with empty_db.connect() as connection:
        apply_legacy_schema(connection)
        connection.execute((FIXTURES / "hand_built.sql").read_text())
        fix_output_settings(connection)
        yield connection


def start(conn: psycopg.Connection) -> journal.Run:
    return journal.start_run(conn, CONFIG, "test")


def test_merge_rollback_restores_the_pre_merge_checksums_and_merge_can_run_again(conn) -> None:
    before = chat_checksums(conn, CONFIG)
    backup.apply(conn, CONFIG, start(conn))
    first = merge.apply(conn, CONFIG, start(conn), batch_size=2)
    assert chat_checksums(conn, CONFIG) != before
    undone = rollback.rollback(conn, CONFIG, start(conn), "merge")
    assert chat_checksums(conn, CONFIG) == before
    assert (undone.messages_deleted, undone.sessions_deleted, undone.sessions_restored) == (9, 3, 2)
    for ledger in (
        "provenance",
        "quarantine",
        "excluded",
        "high_water",
        "session_changes",
        "message_sequence",
    ):
        assert conn.execute(f"SELECT count(*) FROM consolidation.{ledger}").fetchone() == (0,), ledger  # noqa: S608
    again = merge.apply(conn, CONFIG, start(conn), batch_size=5)
    assert again.totals == first.totals
    assert verify.run(conn, CONFIG).clean


def test_rollback_keeps_sessions_the_app_wrote_into_and_says_the_checksums_differ(conn) -> None:
    backup.apply(conn, CONFIG, start(conn))
    merge.apply(conn, CONFIG, start(conn))
    conn.execute(
        "INSERT INTO chat_messages (session_id, sender_id, type, content) "
        "VALUES ('00000000-0000-0000-0000-0000000000b1', "
        "'00000000-0000-0000-0000-0000000000a1', 'text', 'app')"
    )
    with pytest.raises(FindingsError, match="chat_messages"):
        rollback.rollback(conn, CONFIG, start(conn), "merge")
    assert conn.execute(
        "SELECT count(*) FROM chat_sessions WHERE id = '00000000-0000-0000-0000-0000000000b1'"
    ).fetchone() == (1,)
    record = journal.latest(conn, CONFIG, "merge", "rollback")
    assert record and record["details"]["sessions_kept"] == ["00000000-0000-0000-0000-0000000000b1"]


def test_backup_rollback_is_refused_while_merge_relies_on_it(conn) -> None:
    made = backup.apply(conn, CONFIG, start(conn))
    merge.apply(conn, CONFIG, start(conn))
    with pytest.raises(PhaseOrderError, match="rollback --phase merge"):
        rollback.rollback(conn, CONFIG, start(conn), "backup")
    rollback.rollback(conn, CONFIG, start(conn), "merge")
    assert rollback.rollback(conn, CONFIG, start(conn), "backup") == made.schema
    assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [made.schema]).fetchone() == (
        0,
    )
