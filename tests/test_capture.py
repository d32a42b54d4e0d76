"""Change capture and cut-over: an app write at any time after merge starts ends in chat_messages
exactly once with its latest content; cut-over closes the legacy path and rollback re-opens it."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from consolidation.core import journal
from consolidation.core.config import Config
from consolidation.core.session_key import message_id
from consolidation.phases import backup, capture, cutover, merge, verify
from consolidation.pytest_plugin import LocalDatabase

CONFIG = Config()
NEW_ID = uuid.UUID("0eeeeeee-0000-4000-8000-000000000001")


def as_app(conn: psycopg.Connection, statement: str, params: list) -> None:
    """Run STATEMENT as PostgREST runs an authenticated user's request."""
    with conn.transaction():
        conn.execute("SET LOCAL ROLE authenticated")
        conn.execute(statement, params)


def migrated(conn: psycopg.Connection, count: int) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]]:
    return conn.execute(
        "SELECT m.id, m.booking_id, m.sender_id, p.chat_message_id FROM messages m "
        "JOIN consolidation.provenance p ON p.source_table = 'messages' AND p.source_id = m.id "
        "WHERE p.fate = 'migrated' AND m.booking_id IS NOT NULL ORDER BY m.id LIMIT %s",
        [count],
    ).fetchall()


@pytest.fixture
def merged(legacy_db: LocalDatabase) -> psycopg.Connection:
    with legacy_db.connect() as conn:
        run = journal.start_run(conn, CONFIG, "test")
        backup.apply(conn, CONFIG, run)
        merge.apply(conn, CONFIG, run)
        yield conn


def test_the_trigger_logs_each_change_by_key_and_operation(legacy_db: LocalDatabase) -> None:
    # What the log must say for forwarding to see every row: an insert, an edit, a key change
    # (the old key updated away, the new one a row of its own), a deletion; for both sources.
    with legacy_db.connect() as conn:
        journal.install(conn, CONFIG)
        capture.install(conn, CONFIG)
        message, voice_note = conn.execute(
            "SELECT (SELECT id FROM messages ORDER BY id LIMIT 1),"
            " (SELECT id FROM voice_notes ORDER BY id LIMIT 1)"
        ).fetchone()
        moved = uuid.UUID("0eeeeeee-0000-4000-8000-000000000002")
        as_app(
            conn,
            "INSERT INTO messages (id, booking_id, sender_id, type, content, created_at) "
            "SELECT %s, booking_id, sender_id, type, 'new', now() FROM messages WHERE id = %s",
            [NEW_ID, message],
        )
        as_app(conn, "UPDATE messages SET content = 'edited' WHERE id = %s", [NEW_ID])
        as_app(conn, "UPDATE messages SET id = %s WHERE id = %s", [moved, NEW_ID])
        as_app(conn, "DELETE FROM messages WHERE id = %s", [moved])
        as_app(conn, "UPDATE voice_notes SET file_name = 'renamed' WHERE id = %s", [voice_note])
        as_app(conn, "DELETE FROM voice_notes WHERE id = %s", [voice_note])
        logged = conn.execute(
            "SELECT source_table, source_id, operation FROM consolidation.capture_log ORDER BY id"
        ).fetchall()
    assert logged == [
        ("messages", NEW_ID, "INSERT"),
        ("messages", NEW_ID, "UPDATE"),
        ("messages", NEW_ID, "UPDATE"),
        ("messages", moved, "INSERT"),
        ("messages", moved, "DELETE"),
        ("voice_notes", voice_note, "UPDATE"),
        ("voice_notes", voice_note, "DELETE"),
    ]


def test_app_writes_after_the_backfill_are_forwarded_and_cut_over_closes_the_path(merged) -> None:
    conn = merged
    assert capture.state(conn, CONFIG).on
    (edited, booking, sender, edited_chat), (deleted, _, _, deleted_chat) = migrated(conn, 2)
    as_app(
        conn,
        "INSERT INTO messages (id, booking_id, sender_id, type, content, created_at) "
        "VALUES (%s, %s, %s, 'text', 'written after the backfill', now())",
        [NEW_ID, booking, sender],
    )
    as_app(conn, "UPDATE messages SET content = 'edited after the backfill' WHERE id = %s", [edited])
    as_app(conn, "DELETE FROM messages WHERE id = %s", [deleted])
    assert capture.state(conn, CONFIG).pending == 3
    assert not verify.run(conn, CONFIG).clean  # not forwarded yet: the edit and the deletion show

    done = merge.apply(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))
    assert done.run_counts["messages.forwarded"] == 3
    content = dict(conn.execute("SELECT id, content FROM chat_messages").fetchall())
    assert content[message_id(CONFIG.session_rule.direct_namespace, "messages", NEW_ID)] == (
        "written after the backfill"
    )
    assert content[edited_chat] == "edited after the backfill"
    assert deleted_chat not in content
    report = verify.run(conn, CONFIG)
    assert report.clean, report.findings
    again = merge.apply(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))
    assert "messages.forwarded" not in again.run_counts

    # One more write lands between the last forwarding and the cut-over: cut-over forwards it.
    as_app(conn, "UPDATE messages SET content = 'last legacy edit' WHERE id = %s", [edited])
    result = cutover.apply(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))
    assert result.forwarded["messages.forwarded"] == 1 and result.report.clean
    assert conn.execute("SELECT content FROM chat_messages WHERE id = %s", [edited_chat]).fetchone()[0] == (
        "last legacy edit"
    )
    state = capture.state(conn, CONFIG)
    assert not state.messages and not state.voice_notes and state.pending == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_app(conn, "UPDATE messages SET content = 'too late' WHERE id = %s", [edited])

    cutover.rollback(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))
    as_app(conn, "UPDATE messages SET content = 'legacy path open again' WHERE id = %s", [edited])
    assert capture.state(conn, CONFIG).pending == 1


def test_cut_over_before_merge_is_refused(legacy_db: LocalDatabase) -> None:
    from consolidation.core.errors import PhaseOrderError

    with legacy_db.connect() as conn, pytest.raises(PhaseOrderError, match="merge --apply"):
        cutover.apply(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))


def test_merge_rollback_turns_capture_off_and_clears_its_log(merged) -> None:
    conn = merged
    as_app(conn, "UPDATE messages SET content = 'x' WHERE id = %s", [migrated(conn, 1)[0][0]])
    merge.rollback(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))
    state = capture.state(conn, CONFIG)
    assert (state.on, state.logged) == (False, 0)


def test_cut_over_killed_after_closing_the_legacy_tables_resumes_and_rollback_restores_them(
    legacy_db: LocalDatabase,
) -> None:
    consolidate = str(Path(sys.executable).parent / "consolidate")
    with legacy_db.connect() as conn:
        run = journal.start_run(conn, CONFIG, "test")
        backup.apply(conn, CONFIG, run)
        merge.apply(conn, CONFIG, run)
        before = cutover._snapshot(conn, CONFIG)
    killed = subprocess.run(
        [consolidate, "cutover", "apply"], env={**legacy_db.environment(), cutover.CRASH_ENV: "closed"},
        capture_output=True, timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    with legacy_db.connect() as conn:
        assert cutover._closed(conn, CONFIG) and cutover._snapshot(conn, CONFIG) != before
    resumed = subprocess.run(
        [consolidate, "cutover", "apply"], env=legacy_db.environment(), capture_output=True, text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    with legacy_db.connect() as conn:
        cutover.rollback(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))
        # The privileges and row security from before the first, killed attempt.
        assert cutover._snapshot(conn, CONFIG) == before
