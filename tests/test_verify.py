"""Verify: clean after a merge, and each kind of damage is caught by the check that names it."""

from __future__ import annotations

import json

import pytest
from conftest import HAND_BUILT, apply, consolidate

from consolidation.core.config import Config
from consolidation.core.errors import PhaseOrderError
from consolidation.phases import verify
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

# Values the damage statements bind.
KEYS = {
    "m01": "00000000-0000-0000-0001-000000000001",
    "m08": "00000000-0000-0000-0001-000000000008",
    "b1": "00000000-0000-0000-0000-0000000000b1",
    "a1": "00000000-0000-0000-0000-0000000000a1",
}

# (case, damage done after a clean merge, the checks that must report it)
DAMAGE = [
    (
        "target content edited",
        "UPDATE chat_messages SET content = 'x' WHERE id = "
        "(SELECT chat_message_id FROM consolidation.provenance WHERE source_id = %(m01)s)",
        {"mapping"},
    ),
    (
        "target row deleted",
        "DELETE FROM chat_messages WHERE id = "
        "(SELECT chat_message_id FROM consolidation.provenance WHERE source_id = %(m01)s)",
        {"target_exists", "sequence"},
    ),
    (
        "one chat message claimed by two source rows",
        "UPDATE consolidation.provenance SET chat_message_id = "
        "(SELECT chat_message_id FROM consolidation.provenance WHERE source_id = %(m01)s) "
        "WHERE source_id = (SELECT max(source_id::text)::uuid FROM consolidation.provenance "
        "WHERE source_table = 'messages' AND source_id <> %(m01)s)",
        {"multiple_fates"},
    ),
    ("fate lost", "DELETE FROM consolidation.quarantine WHERE source_id = %(m08)s", {"unfated"}),
    (
        "two fates",
        "INSERT INTO consolidation.excluded SELECT source_table, source_id, 'x', 'x', 0, source_checksum "
        "FROM consolidation.provenance WHERE source_id = %(m01)s",
        {"multiple_fates"},
    ),
    (
        # With capture on, an edit is pending until forwarded; behind capture's back it is damage.
        "source edited after merge, capture bypassed",
        "UPDATE messages SET content = 'changed' WHERE id = %(m01)s",
        {"source_unchanged", "mapping"},
    ),
    ("session deleted", "DELETE FROM chat_sessions WHERE id = %(b1)s", {"orphans", "sessions"}),
    (
        "sequence gapped",
        "UPDATE consolidation.session_sequence SET message_ids = message_ids[2:] WHERE session_id = %(b1)s",
        {"sequence"},
    ),
    (
        "message written after merge",
        "INSERT INTO chat_messages (session_id, sender_id, type, content, created_at) "
        "VALUES (%(b1)s, %(a1)s, 'text', 'later', '2025-01-01')",
        {"sequence"},
    ),
    (
        "duplicate of a migrated row",
        "INSERT INTO chat_messages (session_id, sender_id, type, content, file_url, "
        "metadata, created_at) SELECT session_id, sender_id, type, content, file_url, metadata, created_at "
        "FROM chat_messages WHERE id = "
        "(SELECT chat_message_id FROM consolidation.provenance WHERE source_id = %(m01)s)",
        {"duplicates", "sequence"},
    ),
]


@pytest.fixture
def merged_db(small_world: LocalDatabase) -> LocalDatabase:
    apply(small_world, "backup")
    apply(small_world, "merge", batch_size=4)
    return small_world


def test_clean_merge_verifies_and_exits_0(merged_db: LocalDatabase) -> None:
    with merged_db.connect() as conn:
        report = verify.run(conn, Config())
    assert report.clean, report.findings
    assert report.totals["messages.migrated"] == 7
    result = consolidate(merged_db, "verify", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    shown = json.loads(result.stdout)
    assert shown["clean"] and [phase["phase"] for phase in shown["phases"]] == ["backup", "merge"]


@pytest.mark.parametrize("case, damage, checks", DAMAGE, ids=[case[0] for case in DAMAGE])
def test_damage_is_found(merged_db: LocalDatabase, case: str, damage: str, checks: set[str]) -> None:
    with merged_db.connect() as conn:
        if "capture bypassed" in case:
            conn.execute("ALTER TABLE messages DISABLE TRIGGER consolidation_capture")
        conn.execute(damage, KEYS)
        report = verify.run(conn, Config())
    assert {name for name, count in report.counts.items() if count} == checks
    assert {finding.check for finding in report.findings} == checks
    result = consolidate(merged_db, "verify")
    assert result.returncode == 1
    assert "findings in merge" in result.stderr


@pytest.mark.parametrize("before", ["nothing", "a backup"])
def test_verify_before_merge_says_merge_has_not_run(empty_db: LocalDatabase, before: str) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(HAND_BUILT.read_text())
        if before == "a backup":
            apply(empty_db, "backup")
        with pytest.raises(PhaseOrderError, match="merge has not run") as raised:
            verify.run(conn, Config())
        assert "consolidate merge --apply" in str(raised.value.hint)
    result = consolidate(empty_db, "verify")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "merge has not run" in result.stderr and "discrepancies" not in result.stdout + result.stderr
    assert "`consolidate merge --apply`" in " ".join(result.stderr.split())


# (case, damage done after a clean merge, the checks that must report it): the sessions' people
# and the chat's file references, proven as outcomes.
OUTCOME_DAMAGE = [
    (
        "a participant is NULL",
        "UPDATE chat_sessions SET participants = participants || NULL::uuid WHERE id = %(b1)s",
        {"participants", "sessions"},
    ),
    (
        "a participant twice",
        "UPDATE chat_sessions SET participants = participants || %(a1)s::uuid WHERE id = %(b1)s",
        {"participants"},
    ),
    (
        "a public URL into the private target bucket",
        "UPDATE chat_messages SET file_url = 'http://127.0.0.1:54321/storage/v1/object/public/chat-files/'"
        " || session_id || '/' || sender_id || '/x.png' WHERE id = %(app)s",
        {"references"},
    ),
    (
        "a chat-files path that names no object",
        "UPDATE chat_messages SET metadata = jsonb_build_object('deep', jsonb_build_array("
        "'chat-files/' || session_id || '/' || sender_id || '/gone.png')) WHERE id = %(app)s",
        {"references"},
    ),
]


@pytest.mark.parametrize("case, damage, checks", OUTCOME_DAMAGE, ids=[case[0] for case in OUTCOME_DAMAGE])
def test_outcomes_are_proven(merged_db: LocalDatabase, case: str, damage: str, checks: set[str]) -> None:
    with merged_db.connect() as conn:
        conn.execute(damage, {**KEYS, "app": "00000000-0000-0000-0003-000000000001"})
        report = verify.run(conn, Config())
    assert {name for name, count in report.counts.items() if count} == checks
    assert {finding.check for finding in report.findings} == checks


def test_a_reference_into_chat_files_that_exists_in_a_readable_form_is_clean(
    merged_db: LocalDatabase,
) -> None:
    app = "00000000-0000-0000-0003-000000000001"
    with merged_db.connect() as conn:
        session, sender = conn.execute(
            "SELECT session_id, sender_id FROM chat_messages WHERE id = %s", [app]
        ).fetchone()
        name = f"{session}/{sender}/x.png"
        conn.execute(
            "INSERT INTO storage.objects (bucket_id, name) VALUES ('chat-files', %s)", [name]
        )
        for form in (f"chat-files/{name}",
                     f"http://127.0.0.1:54321/storage/v1/object/authenticated/chat-files/{name}"):
            conn.execute("UPDATE chat_messages SET file_url = %s WHERE id = %s", [form, app])
            report = verify.run(conn, Config())
            assert report.clean, report.findings
