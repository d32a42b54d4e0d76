"""Backup: a timestamped schema of exact copies, a manifest that proves it, recorded in the journal."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from psycopg import sql

from consolidation.core import journal
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.core.names import BACKUP_TABLES, table
from consolidation.phases import backup
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

FIXTURES = Path(__file__).parent / "fixtures/merge"
CONFIG = Config()


def test_backup_copies_every_table_verified_and_recorded(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute((FIXTURES / "hand_built.sql").read_text())
        fix_output_settings(conn)
        made = backup.apply(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))
        assert made.verified and made.schema.startswith("consolidation_backup_")
        for name in BACKUP_TABLES:
            copy = table_checksum(conn, sql.Identifier(made.schema, name))
            assert copy == table_checksum(conn, table(CONFIG, name)), name
        manifest = conn.execute(
            sql.SQL("SELECT table_name, rows, verified FROM {} ORDER BY 1").format(
                sql.Identifier(made.schema, "manifest")
            )
        ).fetchall()
        assert manifest == sorted((name, made.tables[name]["rows"], True) for name in BACKUP_TABLES)
        record = journal.latest(conn, CONFIG, "backup")
        assert record and record["details"] == {"schema": made.schema, "verified": True, "replaced": []}
        assert backup.latest_verified(conn, CONFIG) == made.schema
        assert backup.verify(conn, CONFIG, made.schema) == []
        conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(made.schema, "voice_notes")))
        assert backup.verify(conn, CONFIG, made.schema)[0].startswith(f"{made.schema}.voice_notes")


def test_two_backups_in_the_same_second_get_distinct_schemas(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        run = journal.start_run(conn, CONFIG, "test")
        schemas = {backup.apply(conn, CONFIG, run).schema for _ in range(3)}
    assert len(schemas) == 3


def test_rollback_preview_names_the_schema_it_would_drop(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        made = backup.apply(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "consolidate"), "rollback", "--phase", "backup"],
        env=empty_db.environment(), capture_output=True, text=True, timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert f'DROP SCHEMA "{made.schema}" CASCADE' in " ".join(shown.stdout.split())


def test_killed_after_its_commit_the_rerun_replaces_the_unrecorded_schema(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute((FIXTURES / "hand_built.sql").read_text())
    killed = subprocess.run(
        [str(Path(sys.executable).parent / "consolidate"), "backup", "--apply"],
        env={**empty_db.environment(), backup.CRASH_ENV: "committed"}, capture_output=True, timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL
    preview = subprocess.run(
        [str(Path(sys.executable).parent / "consolidate"), "backup"],
        env=empty_db.environment(), capture_output=True, text=True, timeout=60,
    )
    with empty_db.connect() as conn:
        left = backup.unfinished(conn, CONFIG)
        assert len(left) == 1 and backup.backups(conn, CONFIG) == []
        assert preview.returncode == 0 and f"drop_unfinished {left[0]}" in preview.stdout, preview.stdout
        made = backup.apply(conn, CONFIG, journal.start_run(conn, CONFIG, "test"))
        schemas = conn.execute(
            "SELECT array_agg(nspname) FROM pg_namespace WHERE starts_with(nspname, %s)",
            [backup.SCHEMA_PREFIX],
        ).fetchone()[0]
        assert (made.verified, made.replaced, schemas) == (True, left, [made.schema])
        assert [b["schema"] for b in backup.backups(conn, CONFIG)] == [made.schema]
        assert backup.unfinished(conn, CONFIG) == []
