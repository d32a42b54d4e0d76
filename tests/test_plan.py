"""Plan: per-phase counts and the exact SQL, and provably no write to the database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.phases import plan
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

FIXTURES = Path(__file__).parent / "fixtures/merge"

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


def test_plan_counts_every_fate_and_writes_nothing(empty_db: LocalDatabase, tmp_path: Path) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute((FIXTURES / "hand_built.sql").read_text())
        before = snapshot(conn)
        result = subprocess.run(
            [str(Path(sys.executable).parent / "consolidate"), "plan", "--out", str(tmp_path / "plan")],
            env=empty_db.environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert snapshot(conn) == before
        built = plan.build(conn, Config())
        assert snapshot(conn) == before
    assert built.counts["merge"] == {
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
    files = sorted(path.name for path in (tmp_path / "plan").iterdir())
    assert any("merge__060_insert_messages" in name for name in files)
    # The files hold the same text merge runs.
    insert = next(p for p in (tmp_path / "plan").iterdir() if "060_insert_messages" in p.name).read_text()
    step = next(s for s in built.steps if s.name == "060_insert_messages")
    assert step.sql.strip() in insert
