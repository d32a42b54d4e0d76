"""Sync: during the transition window a legacy write reaches chat_messages without an operator,
with merge's fates and provenance, exactly once across SIGKILL, until stopped or cut over."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid

import psycopg
import pytest
from conftest import CONSOLIDATE, apply, as_app, consolidate, migrated, rollback

from consolidation.core.config import Config
from consolidation.core.crash import CRASH_ENV
from consolidation.core.errors import PhaseOrderError
from consolidation.core.session_key import message_id
from consolidation.phases import capture, driver, sync, verify
from consolidation.pytest_plugin import LocalDatabase

CONFIG = Config()
NAMESPACE = CONFIG.session_rule.direct_namespace
NEW_IDS = [uuid.UUID(f"0fffffff-0000-4000-8000-{n:012d}") for n in range(1, 6)]
UNKNOWN_SENDER = uuid.UUID("0fffffff-dead-4000-8000-000000000000")


def old_app_writes(conn: psycopg.Connection) -> dict[str, uuid.UUID]:
    """What the old app does after the merge: new messages (one from a sender nobody knows, which
    merge quarantines), an edit and a deletion of migrated ones."""
    (edited, booking, sender, edited_chat), (deleted, _, _, deleted_chat) = migrated(conn, 2)
    for number, new_id in enumerate(NEW_IDS[:3]):
        as_app(
            conn,
            "INSERT INTO messages (id, booking_id, sender_id, type, content, created_at) "
            "VALUES (%s, %s, %s, 'text', %s, now())",
            [new_id, booking, sender, f"sent from the old app #{number}"],
        )
    conn.execute(
        "INSERT INTO messages (id, booking_id, sender_id, type, content, created_at) "
        "VALUES (%s, %s, %s, 'text', 'from nobody', now())",
        [NEW_IDS[3], booking, UNKNOWN_SENDER],
    )
    as_app(conn, "UPDATE messages SET content = 'edited in the old app' WHERE id = %s", [edited])
    as_app(conn, "DELETE FROM messages WHERE id = %s", [deleted])
    return {"edited_chat": edited_chat, "deleted_chat": deleted_chat}


def chat_content(conn: psycopg.Connection) -> dict[uuid.UUID, str]:
    return dict(conn.execute("SELECT id, content FROM chat_messages").fetchall())


def assert_forwarded_once(conn: psycopg.Connection, written: dict[str, uuid.UUID]) -> None:
    content = chat_content(conn)
    for number, new_id in enumerate(NEW_IDS[:3]):
        assert content[message_id(NAMESPACE, "messages", new_id)] == f"sent from the old app #{number}"
    assert content[written["edited_chat"]] == "edited in the old app"
    assert written["deleted_chat"] not in content
    fates = conn.execute(
        "SELECT source_id, fate FROM consolidation.provenance WHERE source_id = ANY (%s) "
        "UNION ALL SELECT source_id, 'quarantined: ' || reason FROM consolidation.quarantine "
        "WHERE source_id = ANY (%s)",
        [NEW_IDS, NEW_IDS],
    ).fetchall()
    # Exactly one fate each, the merge's: migrated, or quarantined for the unknown sender.
    assert sorted(fates) == sorted(
        [(new_id, "migrated") for new_id in NEW_IDS[:3]] + [(NEW_IDS[3], "quarantined: unknown_sender")]
    )
    assert capture.state(conn, CONFIG).pending == 0
    report = verify.run(conn, CONFIG)
    assert report.clean and report.pending == 0, report.findings


@pytest.fixture
def merged(legacy_db: LocalDatabase) -> psycopg.Connection:
    apply(legacy_db, "backup")
    apply(legacy_db, "merge")
    with legacy_db.connect() as conn:
        yield conn


def test_the_preview_shows_the_backlog_and_writes_nothing(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
    old_app_writes(merged)
    preview = consolidate(legacy_db, "sync", "--format", "json")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    plan = json.loads(preview.stdout)
    assert plan["counts"]["captured changes waiting"] == 6
    assert (plan["counts"]["waiting: messages INSERT"], plan["counts"]["waiting: messages UPDATE"]) == (4, 1)
    assert plan["counts"]["waiting: messages DELETE"] == 1 and plan["counts"]["capture on"] == "yes"
    assert any(step["name"] == "forward: 065_upsert_messages" for step in plan["steps"])
    text = consolidate(legacy_db, "sync", "--no-sql")
    assert "captured changes waiting" in text.stdout and "nothing written" in text.stdout
    assert capture.state(merged, CONFIG).pending == 6


def test_sync_once_forwards_inserts_edits_and_deletes_with_the_merges_fates(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
    written = old_app_writes(merged)
    done = consolidate(legacy_db, "sync", "--apply", "--once", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    counts = json.loads(done.stdout)["counts"]
    assert (counts["changes forwarded"], counts["stopped by"], counts["changes timed"]) == (6, "once", 6)
    assert 0 <= counts["lag p50 s"] <= counts["lag p99 s"] <= counts["lag max s"]
    assert_forwarded_once(merged, written)
    again = consolidate(legacy_db, "sync", "--apply", "--once", "--format", "json")
    assert '"changes forwarded": 0' in again.stdout


def test_sync_refuses_before_merge(legacy_db: LocalDatabase) -> None:
    with legacy_db.connect() as conn:
        ctx = driver.context(conn, CONFIG, legacy_db.url)
        with pytest.raises(PhaseOrderError, match="merge --apply"):
            sync.run(ctx, once=True)


def sync_records(conn: psycopg.Connection) -> list[tuple[str, str | None]]:
    return conn.execute(
        "SELECT status, counts ->> 'changes forwarded' FROM consolidation.phase_records "
        "WHERE phase = 'sync' ORDER BY id"
    ).fetchall()


def wait_until(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "sync did not get there in time"
        time.sleep(0.05)


def test_sync_keeps_forwarding_until_sigterm_and_exits_0(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
    running = subprocess.Popen(
        [CONSOLIDATE, "sync", "--apply"],
        env={**legacy_db.environment(), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: sync_records(merged) == [("running", None)])
        # Written while sync runs: no operator runs anything, and the new app sees it.
        written = old_app_writes(merged)
        # Forwarded, then sequenced once the backlog is drained (sequencing trails by a round).
        wait_until(lambda: capture.state(merged, CONFIG).pending == 0 and verify.run(merged, CONFIG).clean)
        assert_forwarded_once(merged, written)
        running.send_signal(signal.SIGTERM)
        stdout, stderr = running.communicate(timeout=30)
    finally:
        running.kill()
    assert running.returncode == 0, stdout + stderr
    assert "stopped by" in stdout and "signal" in stdout and "lag p50 s" in stdout
    assert sync_records(merged) == [("completed", "6")]


@pytest.mark.parametrize("point", ["merge.in_forward", "sync.after_forward"])
def test_sigkill_and_a_restart_lose_nothing_and_duplicate_nothing(
    merged: psycopg.Connection, legacy_db: LocalDatabase, point: str
) -> None:
    written = old_app_writes(merged)
    # Killed inside its first forwarding (before the commit), or right after it committed.
    killed = consolidate(legacy_db, "sync", "--apply", "--batch-size", "2", env={CRASH_ENV: point})
    assert killed.returncode == -signal.SIGKILL
    forwarded_before = merged.execute(
        "SELECT count(*) FROM consolidation.capture_log WHERE forwarded_at IS NOT NULL"
    ).fetchone()[0]
    assert forwarded_before == (0 if point == "merge.in_forward" else 2)
    restarted = consolidate(legacy_db, "sync", "--apply", "--once")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert_forwarded_once(merged, written)
    statuses = [
        row[0]
        for row in merged.execute(
            "SELECT status FROM consolidation.phase_records WHERE phase = 'sync' ORDER BY id"
        )
    ]
    assert statuses == ["interrupted", "completed"]


def test_sync_stops_once_the_cut_over_stands(merged: psycopg.Connection, legacy_db: LocalDatabase) -> None:
    written = old_app_writes(merged)
    outcome: dict[str, object] = {}

    def syncing() -> None:
        with legacy_db.connect() as conn:
            outcome["result"] = sync.run(driver.context(conn, CONFIG, legacy_db.url), max_seconds=60)

    worker = threading.Thread(target=syncing)
    worker.start()
    # Forwarded and sequenced (cut-over refuses while merge's verification has findings).
    wait_until(lambda: capture.state(merged, CONFIG).pending == 0 and verify.run(merged, CONFIG).clean)
    # The cut-over forwards beside the running sync (one forwarder at a time), and sync ends.
    as_app(
        merged, "UPDATE messages SET content = 'last legacy edit' WHERE id = %s", [migrated(merged, 1)[0][0]]
    )
    cut = apply(legacy_db, "cutover", force_order=True)
    assert cut.report is not None and cut.report.clean
    worker.join(timeout=30)
    assert not worker.is_alive()
    result = outcome["result"]
    assert isinstance(result, sync.SyncResult) and result.stopped_by == "cut-over"
    assert chat_content(merged)[migrated(merged, 1)[0][3]] == "last legacy edit"
    assert_forwarded_once_after_cutover = verify.run(merged, CONFIG)
    assert assert_forwarded_once_after_cutover.clean
    assert written["deleted_chat"] not in chat_content(merged)


def test_verify_reports_the_backlog_as_pending_and_is_clean_once_drained(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
    # The case: 100 messages the old app wrote after the merge, none forwarded yet.
    (_, booking, sender, _), *_ = migrated(merged, 1)
    as_app(
        merged,
        "INSERT INTO messages (id, booking_id, sender_id, type, content, created_at) "
        "SELECT gen_random_uuid(), %s, %s, 'text', 'after the merge #' || n, now() "
        "FROM generate_series(1, 100) AS n",
        [booking, sender],
    )
    old_app_writes(merged)
    waiting = consolidate(legacy_db, "merge", "verify", "--format", "json")
    assert waiting.returncode == 0, waiting.stdout + waiting.stderr
    report = json.loads(waiting.stdout)["phases"][0]
    assert report["clean"] and not any(report["counts"].values())
    assert report["notes"]["pending (captured, not forwarded yet)"] == 106
    assert report["notes"]["oldest pending capture, seconds ago"] >= 0
    assert consolidate(legacy_db, "sync", "--apply", "--once").returncode == 0
    drained = json.loads(consolidate(legacy_db, "merge", "verify", "--format", "json").stdout)["phases"][0]
    assert drained["clean"] and drained["notes"]["pending (captured, not forwarded yet)"] == 0
    assert "oldest pending capture, seconds ago" not in drained["notes"]
    assert (
        merged.execute(
            "SELECT count(*) FROM chat_messages WHERE content LIKE 'after the merge #%'"
        ).fetchone()[0]
        == 100
    )


def direct_pair(conn: psycopg.Connection) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A migrated direct message's session and its two participants."""
    return conn.execute(
        "SELECT c.session_id, m.sender_id, m.recipient_id FROM messages m "
        "JOIN consolidation.provenance p ON p.source_table = 'messages' AND p.source_id = m.id "
        "JOIN chat_messages c ON c.id = p.chat_message_id "
        "WHERE p.fate = 'migrated' AND m.booking_id IS NULL AND m.recipient_id <> m.sender_id "
        "ORDER BY m.id LIMIT 1"
    ).fetchone()


def new_app_sends(
    conn: psycopg.Connection, message: uuid.UUID, session: uuid.UUID, sender: uuid.UUID, text: str
) -> None:
    as_app(
        conn,
        "INSERT INTO chat_messages (id, session_id, sender_id, type, content, metadata, created_at) "
        "VALUES (%s, %s, %s, 'text', %s, '{}', now())",
        [message, session, sender, text],
    )


def legacy_row(conn: psycopg.Connection, message: uuid.UUID) -> tuple | None:
    return conn.execute(
        "SELECT booking_id, sender_id, recipient_id, type, content FROM messages WHERE id = %s", [message]
    ).fetchone()


def test_the_new_apps_messages_are_written_back_for_the_old_app_and_never_forwarded_again(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
    conn = merged
    (_, booking, booker, _), *_ = migrated(conn, 1)
    direct_session, alice, bob = direct_pair(conn)
    homeless = uuid.UUID("0fffffff-0000-4000-8000-0000000000aa")
    conn.execute(
        "INSERT INTO chat_sessions (id, participants, type) VALUES (%s, ARRAY[%s, %s]::uuid[], 'direct')",
        [homeless, alice, bob],
    )
    assert consolidate(legacy_db, "sync", "--apply", "--once").returncode == 0  # write-back on
    in_booking, in_pair, nowhere = (uuid.UUID(f"0fffffff-0000-4000-8000-0000000000b{n}") for n in range(3))
    new_app_sends(conn, in_booking, booking, booker, "from the new app, in a booking")
    new_app_sends(conn, in_pair, direct_session, alice, "from the new app, to bob")
    new_app_sends(conn, nowhere, homeless, alice, "in a session the old app never had")
    logged_before = conn.execute("SELECT count(*) FROM consolidation.capture_log").fetchone()[0]

    done = consolidate(legacy_db, "sync", "--apply", "--once", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    counts = json.loads(done.stdout)["counts"]
    assert counts["write-back"]["legacy rows written"] == 2 and counts["changes forwarded"] == 0
    assert legacy_row(conn, in_booking) == (booking, booker, None, "text", "from the new app, in a booking")
    assert legacy_row(conn, in_pair) == (None, alice, bob, "text", "from the new app, to bob")
    assert legacy_row(conn, nowhere) is None
    # Written back by the tool: the legacy capture logged nothing, so nothing comes forward again.
    assert conn.execute("SELECT count(*) FROM consolidation.capture_log").fetchone()[0] == logged_before
    assert conn.execute(
        "SELECT fate, batch FROM consolidation.provenance WHERE source_id = %s", [in_pair]
    ).fetchone() == ("linked", -2)
    report = verify.run(conn, CONFIG)
    assert report.clean and report.written_back == 2 and report.write_back_pending == 0, report.findings

    # Edits and deletions follow; an edit waiting to go back is pending, not a discrepancy.
    as_app(conn, "UPDATE chat_messages SET content = 'edited in the new app' WHERE id = %s", [in_booking])
    as_app(conn, "DELETE FROM chat_messages WHERE id = %s", [in_pair])
    waiting = verify.run(conn, CONFIG)
    assert waiting.clean and waiting.write_back_pending == 2, waiting.findings
    assert consolidate(legacy_db, "sync", "--apply", "--once").returncode == 0
    assert legacy_row(conn, in_booking)[4] == "edited in the new app"
    assert legacy_row(conn, in_pair) is None
    # The old app edits a written-back message: the chat message takes the edit (both apps show
    # the latest content), no second chat message, and nothing goes back again.
    chat_rows = conn.execute("SELECT count(*) FROM chat_messages").fetchone()[0]
    as_app(conn, "UPDATE messages SET content = 'the old app edits it' WHERE id = %s", [in_booking])
    assert consolidate(legacy_db, "sync", "--apply", "--once").returncode == 0
    assert conn.execute("SELECT count(*) FROM chat_messages").fetchone()[0] == chat_rows
    assert chat_content(conn)[in_booking] == "the old app edits it"
    assert (
        conn.execute("SELECT count(*) FROM consolidation.app_log WHERE written_back_at IS NULL").fetchone()[0]
        == 0
    )
    final = verify.run(conn, CONFIG)
    assert final.clean and final.written_back == 1 and final.pending == 0, final.findings


def test_write_back_configured_off_leaves_the_legacy_tables_alone(
    merged: psycopg.Connection, legacy_db: LocalDatabase, tmp_path
) -> None:
    off = tmp_path / "off.toml"
    off.write_text("[sync]\nwrite_back = false\n", encoding="utf-8")
    (_, booking, booker, _), *_ = migrated(merged, 1)
    assert consolidate(legacy_db, "sync", "--apply", "--once", "--config", str(off)).returncode == 0
    message = uuid.UUID("0fffffff-0000-4000-8000-0000000000c0")
    new_app_sends(merged, message, booking, booker, "stays in chat_messages")
    assert consolidate(legacy_db, "sync", "--apply", "--once", "--config", str(off)).returncode == 0
    assert legacy_row(merged, message) is None
    assert merged.execute("SELECT count(*) FROM consolidation.app_log").fetchone()[0] == 0


def test_cut_over_rollback_carries_back_what_the_new_app_wrote_since(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
    (_, booking, booker, chat_id), *_ = migrated(merged, 1)
    cut = apply(legacy_db, "cutover", force_order=True)
    assert cut.report is not None and cut.report.clean, cut.report.findings
    # The new app alone from here: a new message in the booking's session, an edit of an old one.
    since = uuid.UUID("0fffffff-0000-4000-8000-0000000000d0")
    new_app_sends(merged, since, booking, booker, "written after the cut-over")
    as_app(merged, "UPDATE chat_messages SET content = 'edited after the cut-over' WHERE id = %s", [since])
    undone = rollback(legacy_db, "cutover")
    assert undone.result is not None and undone.result.counts["carried back"]["legacy rows written"] == 1
    # The old app shows it as soon as the legacy path is open again; verify accounts for it.
    assert legacy_row(merged, since) == (booking, booker, None, "text", "edited after the cut-over")
    report = verify.run(merged, CONFIG)
    assert report.clean and report.written_back == 1 and report.write_back_pending == 0, report.findings
    assert chat_id in chat_content(merged)
