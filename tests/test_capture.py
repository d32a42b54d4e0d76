"""Change capture and cut-over: an app write at any time after merge starts ends in chat_messages
exactly once with its latest content; cut-over closes the legacy path and rollback re-opens it."""

from __future__ import annotations

import signal
import uuid

import psycopg
import pytest
from conftest import apply, as_app, consolidate, migrated, rollback

from consolidation.core import journal
from consolidation.core.config import Config
from consolidation.core.crash import CRASH_ENV
from consolidation.core.errors import PhaseOrderError
from consolidation.core.session_key import message_id
from consolidation.phases import capture, cutover, verify
from consolidation.pytest_plugin import LocalDatabase

CONFIG = Config()
NEW_ID = uuid.UUID("0eeeeeee-0000-4000-8000-000000000001")


@pytest.fixture
def merged(legacy_db: LocalDatabase) -> psycopg.Connection:
    apply(legacy_db, "backup")
    apply(legacy_db, "merge")
    with legacy_db.connect() as conn:
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


def test_app_writes_after_the_backfill_are_forwarded_and_cut_over_closes_the_path(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
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
    # Captured, not forwarded yet: pending, not discrepancies.
    waiting = verify.run(conn, CONFIG)
    assert waiting.clean and waiting.pending == 3 and waiting.oldest_pending_seconds is not None

    done = apply(legacy_db, "merge")
    assert done.result.counts["run"]["messages.forwarded"] == 3
    content = dict(conn.execute("SELECT id, content FROM chat_messages").fetchall())
    assert content[message_id(CONFIG.session_rule.direct_namespace, "messages", NEW_ID)] == (
        "written after the backfill"
    )
    assert content[edited_chat] == "edited after the backfill"
    assert deleted_chat not in content
    report = verify.run(conn, CONFIG)
    assert report.clean, report.findings
    again = apply(legacy_db, "merge")
    assert "messages.forwarded" not in again.result.counts["run"]

    # One more write lands between the last forwarding and the cut-over: cut-over forwards it.
    as_app(conn, "UPDATE messages SET content = 'last legacy edit' WHERE id = %s", [edited])
    # (Storage and the policies are not what this test is about: past their gate.)
    result = apply(legacy_db, "cutover", force_order=True)
    assert result.result.counts["forwarded"]["messages.forwarded"] == 1 and result.report.clean
    assert conn.execute("SELECT content FROM chat_messages WHERE id = %s", [edited_chat]).fetchone()[0] == (
        "last legacy edit"
    )
    state = capture.state(conn, CONFIG)
    assert not state.messages and not state.voice_notes and state.pending == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_app(conn, "UPDATE messages SET content = 'too late' WHERE id = %s", [edited])

    rollback(legacy_db, "cutover")
    as_app(conn, "UPDATE messages SET content = 'legacy path open again' WHERE id = %s", [edited])
    assert capture.state(conn, CONFIG).pending == 1


def test_cut_over_before_merge_is_refused(legacy_db: LocalDatabase) -> None:
    with pytest.raises(PhaseOrderError, match="merge --apply"):
        apply(legacy_db, "cutover")


def test_merge_rollback_turns_capture_off_and_clears_its_log(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
    conn = merged
    as_app(conn, "UPDATE messages SET content = 'x' WHERE id = %s", [migrated(conn, 1)[0][0]])
    rollback(legacy_db, "merge")
    state = capture.state(conn, CONFIG)
    assert (state.on, state.logged) == (False, 0)


def test_cut_over_killed_after_closing_the_legacy_tables_resumes_and_rollback_restores_them(
    legacy_db: LocalDatabase,
) -> None:
    apply(legacy_db, "backup")
    apply(legacy_db, "merge")
    with legacy_db.connect() as conn:
        before = cutover.legacy_snapshot(conn, CONFIG)
    killed = consolidate(legacy_db, "cutover", "--apply", "--force-order", env={CRASH_ENV: "cutover.closed"})
    assert killed.returncode == -signal.SIGKILL
    with legacy_db.connect() as conn:
        assert cutover.legacy_closed(conn, CONFIG) and cutover.legacy_snapshot(conn, CONFIG) != before
    resumed = consolidate(legacy_db, "cutover", "--apply", "--force-order")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    rollback(legacy_db, "cutover")
    with legacy_db.connect() as conn:
        # The privileges and row security from before the first, killed attempt.
        assert cutover.legacy_snapshot(conn, CONFIG) == before
        statuses = [
            row[0]
            for row in conn.execute(
                "SELECT status FROM consolidation.phase_records WHERE phase = 'cutover' ORDER BY id"
            )
        ]
    assert statuses == ["interrupted", "completed", "completed", "completed"]
