"""The data core on the seeder's dataset: the CLI's phases end to end, and every anomaly class's fate."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from conftest import apply, consolidate

from consolidation.core.checksums import chat_checksums, fix_output_settings
from consolidation.core.config import Config
from consolidation.phases import verify
from consolidation.pytest_plugin import LocalDatabase

CONFIG = Config()


def test_plan_backup_merge_verify_then_merge_again_inserts_nothing_and_rollback_restores(
    legacy_db: LocalDatabase,
) -> None:
    with legacy_db.connect() as conn:
        fix_output_settings(conn)
        before = chat_checksums(conn, CONFIG)
        for args in (("plan",), ("backup", "--apply"), ("merge", "--apply"), ("verify",)):
            done = consolidate(legacy_db, *args)
            assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        merged = chat_checksums(conn, CONFIG)
        assert merged["chat_messages"] != before["chat_messages"]

        again = consolidate(legacy_db, "merge", "--apply", "--format", "json")
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["counts"]["new rows this run"] == 0
        assert chat_checksums(conn, CONFIG) == merged

        undone = consolidate(legacy_db, "rollback", "--phase", "merge", "--apply")
        assert undone.returncode == 0, f"{undone.stdout}\n{undone.stderr}"
        assert chat_checksums(conn, CONFIG) == before


FATE_CASES = tomllib.loads((Path(__file__).parent / "fixtures/seeded/fates.toml").read_text())
FATES = """
SELECT source_table, source_id, fate, '' FROM consolidation.provenance
UNION ALL SELECT source_table, source_id, 'quarantined', reason FROM consolidation.quarantine
UNION ALL SELECT source_table, source_id, 'excluded', reason FROM consolidation.excluded
"""

FATE_COUNTS = """
SELECT count(*), count(DISTINCT (source_table, source_id)) FROM (
  SELECT source_table, source_id FROM consolidation.provenance
  UNION ALL SELECT source_table, source_id FROM consolidation.quarantine
  UNION ALL SELECT source_table, source_id FROM consolidation.excluded
) AS f
"""


@pytest.fixture(scope="module")
def seeded_merge(local_cluster, legacy_template: LocalDatabase):
    """One merged clone of the seeded dataset, shared by the read-only checks below."""
    database = local_cluster.create("seeded_merge", template=legacy_template)
    with database.connect() as conn:
        fix_output_settings(conn)
        anomalies = {case: conn.execute(spec["rows"]).fetchall() for case, spec in FATE_CASES.items()}
        app_rows = conn.execute(
            "SELECT id, md5(c::text) FROM public.chat_messages c WHERE NOT c.metadata ? 'legacy_message_id'"
        ).fetchall()
        apply(database, "backup")
        apply(database, "merge", batch_size=400)
        yield conn, anomalies, dict(app_rows)
    local_cluster.drop(database)


@pytest.mark.parametrize("case", FATE_CASES)
def test_every_row_of_an_anomaly_class_gets_its_fate(seeded_merge, case: str) -> None:
    conn, anomalies, _ = seeded_merge
    rows = anomalies[case]
    assert rows, f"the seed made no {case} rows"
    fates = {(table, key): (fate, reason) for table, key, fate, reason in conn.execute(FATES).fetchall()}
    allowed = {tuple(fate) for fate in FATE_CASES[case]["fates"]}
    wrong = {row: fates.get(tuple(row)) for row in rows if fates.get(tuple(row)) not in allowed}
    assert not wrong, f"{case}: {len(wrong)} of {len(rows)} got another fate: {list(wrong.items())[:3]}"


def test_dual_written_rows_are_linked_to_the_apps_row_never_copied(seeded_merge) -> None:
    conn, _, app_rows = seeded_merge
    # Every legacy id the app wrote into metadata points at the chat message it was linked to.
    mislinked = conn.execute(
        "SELECT c.id FROM public.chat_messages c "
        "LEFT JOIN consolidation.provenance p ON p.source_id = (c.metadata->>'legacy_message_id')::uuid "
        "WHERE c.metadata ? 'legacy_message_id' AND p.chat_message_id IS DISTINCT FROM c.id"
    ).fetchall()
    assert mislinked == []
    # Rows matched by content (no legacy id) are linked too: some exist, each linked exactly once.
    by_content = conn.execute(
        "SELECT count(*) FROM consolidation.provenance p"
        " JOIN public.chat_messages c ON c.id = p.chat_message_id"
        " WHERE p.fate = 'linked' AND NOT c.metadata ? 'legacy_message_id'"
    ).fetchone()[0]
    assert by_content > 0
    # No content is in chat_messages twice in one session for the same sender and instant.
    duplicates = conn.execute(
        "SELECT session_id, sender_id, created_at, md5(coalesce(content, '') || coalesce(file_url, '')) "
        "FROM public.chat_messages GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
    ).fetchall()
    assert duplicates == []
    # The app's rows are untouched.
    now = dict(
        conn.execute(
            "SELECT id, md5(c::text) FROM public.chat_messages c WHERE id = ANY(%s)", [list(app_rows)]
        ).fetchall()
    )
    assert now == app_rows


def test_every_source_row_has_exactly_one_fate(seeded_merge) -> None:
    conn, _, _ = seeded_merge
    sources = conn.execute(
        "SELECT (SELECT count(*) FROM public.messages) + (SELECT count(*) FROM public.voice_notes)"
    ).fetchone()[0]
    fated = conn.execute(FATE_COUNTS).fetchone()
    assert fated == (sources, sources)


def test_every_session_merge_wrote_has_distinct_people_and_verify_is_clean(seeded_merge) -> None:
    conn, _, _ = seeded_merge
    crowded = conn.execute(
        "SELECT s.id, s.participants FROM public.chat_sessions s "
        "JOIN consolidation.session_changes c ON c.session_id = s.id "
        "WHERE array_position(s.participants, NULL) IS NOT NULL OR cardinality(s.participants) = 0 "
        "OR cardinality(s.participants) <> (SELECT count(DISTINCT p) FROM unnest(s.participants) p)"
    ).fetchall()
    assert crowded == []
    singles = conn.execute(
        "SELECT count(*) FROM public.chat_sessions s JOIN consolidation.session_changes c "
        "ON c.session_id = s.id WHERE cardinality(s.participants) = 1"
    ).fetchone()[0]
    assert singles >= 2, "the seed's booking without a reader and its self-booking have one participant"
    report = verify.run(conn, CONFIG)
    assert report.clean, report.findings
