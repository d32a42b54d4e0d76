"""Plan: every phase's counts and exact SQL, and provably no write to the database."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from conftest import consolidate

from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.phases import driver
from consolidation.phases.registry import names
from consolidation.pytest_plugin import LocalDatabase

# Everything a write could leave behind: every table's content, and every schema object.
SNAPSHOT_OBJECTS = """
SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
UNION ALL SELECT n.nspname, p.proname, 'f' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
UNION ALL SELECT nspname, '', 'n' FROM pg_namespace
WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
ORDER BY 1, 2, 3
"""


def snapshot(conn: psycopg.Connection) -> tuple[list, dict]:
    objects = conn.execute(SNAPSHOT_OBJECTS).fetchall()
    tables = conn.execute(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    ).fetchall()
    return objects, {name: table_checksum(conn, psycopg.sql.SQL(name)) for (name,) in tables}


def test_plan_shows_every_phase_counts_every_fate_and_writes_nothing(
    small_world: LocalDatabase, tmp_path: Path
) -> None:
    with small_world.connect() as conn:
        before = snapshot(conn)
        shown = consolidate(small_world, "plan", "--format", "json")
        written = consolidate(small_world, "plan", "--out", str(tmp_path / "plan"))
        assert shown.returncode == 0 and written.returncode == 0, shown.stderr + written.stderr
        assert snapshot(conn) == before
        planned = driver.plan_all(
            driver.context(conn, Config(), small_world.url, environment=small_world.environment())
        )
        assert snapshot(conn) == before
    plans = json.loads(shown.stdout)
    assert [entry["phase"] for entry in plans] == names()
    by_phase = {entry["phase"]: entry for entry in plans}
    assert by_phase["merge"]["counts"] == {
        "messages to migrate": 7,
        "messages to link (already dual-written)": 2,
        "messages to quarantine: deleted_booking": 1,
        "messages to quarantine: no_session": 1,
        "messages to quarantine: unknown_recipient": 1,
        "messages to quarantine: unknown_sender": 1,
        "voice_notes to migrate": 2,
        "voice_notes to exclude: context_not_chat": 1,
        "voice_notes to quarantine: no_session": 1,
        "voice_notes to quarantine: unknown_sender": 1,
        "sessions to create": 3,
    }
    # Counts by default; the SQL only on request.
    assert "steps" not in by_phase["merge"] and by_phase["merge"]["step_count"] > 10
    files = sorted(path.name for path in (tmp_path / "plan").iterdir())
    assert any("merge__060_insert_messages" in name for name in files)
    # The files hold the same text merge runs.
    insert = next(p for p in (tmp_path / "plan").iterdir() if "060_insert_messages" in p.name).read_text()
    merge_plan = next(plan for phase, plan in planned if phase.name == "merge")
    step = next(s for s in merge_plan.steps if s.name == "060_insert_messages")
    assert step.sql.strip() in insert
