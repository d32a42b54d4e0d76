"""Verify: clean after a merge, and each kind of damage is caught by the check that names it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from consolidation.core import journal
from consolidation.core.config import Config
from consolidation.phases import backup, merge, verify
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

FIXTURES = Path(__file__).parent / "fixtures/merge"
CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")
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
        "source edited after merge",
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
def merged_db(empty_db: LocalDatabase) -> LocalDatabase:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute((FIXTURES / "hand_built.sql").read_text())
        run = journal.start_run(conn, Config(), "test")
        backup.apply(conn, Config(), run)
        merge.apply(conn, Config(), run, batch_size=4)
    return empty_db


def test_clean_merge_verifies_and_exits_0(merged_db: LocalDatabase) -> None:
    with merged_db.connect() as conn:
        report = verify.run(conn, Config())
    assert report.clean, report.findings
    assert report.totals["messages.migrated"] == 7
    result = subprocess.run(
        [CONSOLIDATE, "verify"], env=merged_db.environment(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case, damage, checks", DAMAGE, ids=[case[0] for case in DAMAGE])
def test_damage_is_found(merged_db: LocalDatabase, case: str, damage: str, checks: set[str]) -> None:
    with merged_db.connect() as conn:
        conn.execute(damage, KEYS)
        report = verify.run(conn, Config())
    assert {name for name, count in report.counts.items() if count} == checks
    assert {finding.check for finding in report.findings} == checks
    result = subprocess.run(
        [CONSOLIDATE, "verify"], env=merged_db.environment(), capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "discrepancies" in result.stdout + result.stderr


def test_verify_before_merge_is_a_finding(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        report = verify.run(conn, Config())
    assert not report.clean and report.counts == {"merge_not_run": 1}
