"""Rollback: merge's rollback removes exactly what merge created and proves the pre-merge checksums."""

from __future__ import annotations

import psycopg
import pytest
from conftest import apply, rollback

from consolidation.core import journal
from consolidation.core.checksums import chat_checksums, fix_output_settings
from consolidation.core.config import Config
from consolidation.core.errors import FindingsError, PhaseOrderError
from consolidation.phases import verify
from consolidation.pytest_plugin import LocalDatabase

CONFIG = Config()


@pytest.fixture
def conn(small_world: LocalDatabase) -> psycopg.Connection:
    with small_world.connect() as connection:
        fix_output_settings(connection)
        yield connection


def test_merge_rollback_restores_the_pre_merge_checksums_and_merge_can_run_again(
    conn: psycopg.Connection, small_world: LocalDatabase
) -> None:
    before = chat_checksums(conn, CONFIG)
    apply(small_world, "backup")
    first = apply(small_world, "merge", batch_size=2)
    assert chat_checksums(conn, CONFIG) != before
    undone = rollback(small_world, "merge")
    assert chat_checksums(conn, CONFIG) == before
    counts = undone.result.counts
    assert (counts["messages_deleted"], counts["sessions_deleted"], counts["sessions_restored"]) == (9, 3, 2)
    for ledger in (
        "provenance",
        "quarantine",
        "excluded",
        "high_water",
        "session_changes",
        "message_sequence",
    ):
        assert conn.execute(f"SELECT count(*) FROM consolidation.{ledger}").fetchone() == (0,), ledger  # noqa: S608
    assert not journal.phase_state(conn, CONFIG, "merge").applied
    again = apply(small_world, "merge", batch_size=5)
    assert again.result.counts["totals"] == first.result.counts["totals"]
    assert verify.run(conn, CONFIG).clean


def test_a_rollback_that_cannot_prove_its_checksums_is_journaled_failed(
    conn: psycopg.Connection, small_world: LocalDatabase
) -> None:
    apply(small_world, "backup")
    apply(small_world, "merge")
    conn.execute(
        "INSERT INTO chat_messages (session_id, sender_id, type, content) "
        "VALUES ('00000000-0000-0000-0000-0000000000b1', "
        "'00000000-0000-0000-0000-0000000000a1', 'text', 'app')"
    )
    with pytest.raises(FindingsError, match="chat_messages"):
        rollback(small_world, "merge")
    assert conn.execute(
        "SELECT count(*) FROM chat_sessions WHERE id = '00000000-0000-0000-0000-0000000000b1'"
    ).fetchone() == (1,)
    assert journal.latest(conn, CONFIG, "merge", "rollback") is None
    failed = journal.latest(conn, CONFIG, "merge", "rollback", status="failed")
    assert failed and failed["details"]["sessions_kept"] == ["00000000-0000-0000-0000-0000000000b1"]
    assert journal.phase_state(conn, CONFIG, "merge").unfinished == "rollback failed"


def test_a_phase_cannot_be_rolled_back_under_one_built_on_it(
    conn: psycopg.Connection, small_world: LocalDatabase
) -> None:
    made = apply(small_world, "backup").result.details["schema"]
    apply(small_world, "merge")
    with pytest.raises(PhaseOrderError, match="roll back merge first"):
        rollback(small_world, "backup")
    rollback(small_world, "merge")
    assert rollback(small_world, "backup").result.counts == {"dropped schema": made}
    assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [made]).fetchone() == (0,)


def test_rolling_back_what_was_never_applied_is_refused_and_writes_nothing(
    small_world: LocalDatabase,
) -> None:
    for phase in ("backup", "merge", "storage", "constraints", "policies", "cutover"):
        with pytest.raises(Exception, match="has not been applied") as refused:
            rollback(small_world, phase)
        assert refused.value.exit_code == 2
    with small_world.connect() as conn:
        assert conn.execute("SELECT to_regnamespace('consolidation') IS NULL").fetchone() == (True,)
