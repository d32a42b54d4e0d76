"""Backup: a numbered schema of exact copies, a manifest that proves it, recorded in the journal."""

from __future__ import annotations

import signal

import psycopg
from conftest import apply, consolidate, rollback
from psycopg import sql

from consolidation.core import journal
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.crash import CRASH_ENV
from consolidation.core.db import table_checksum
from consolidation.core.names import BACKUP_TABLES, table
from consolidation.phases import backup
from consolidation.pytest_plugin import LocalDatabase

CONFIG = Config()


def first_message(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT id FROM public.messages ORDER BY id LIMIT 1").fetchone()[0]


def test_backup_copies_every_table_verified_and_recorded(small_world: LocalDatabase) -> None:
    done = apply(small_world, "backup")
    schema = done.result.details["schema"]
    assert schema == f"{backup.SCHEMA_PREFIX}001" and done.report.clean
    with small_world.connect() as conn:
        fix_output_settings(conn)
        for name in BACKUP_TABLES:
            copy = table_checksum(conn, sql.Identifier(schema, name))
            assert copy == table_checksum(conn, table(CONFIG, name)), name
        manifest = conn.execute(
            sql.SQL("SELECT table_name, rows, verified FROM {} ORDER BY 1").format(
                sql.Identifier(schema, "manifest")
            )
        ).fetchall()
        assert manifest == sorted((name, done.result.counts[name], True) for name in BACKUP_TABLES)
        record = journal.latest(conn, CONFIG, "backup")
        assert record and record["details"] == {"schema": schema, "verified": True, "replaced": []}
        assert backup.latest_verified(conn, CONFIG) == schema
        assert backup.manifest_findings(conn, schema) == []
        conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, "voice_notes")))
        assert backup.manifest_findings(conn, schema)[0].where == f"{schema}.voice_notes"


def test_a_second_backup_of_unchanged_data_is_a_no_op_and_a_changed_one_is_the_next(
    small_world: LocalDatabase,
) -> None:
    first = apply(small_world, "backup")
    again = apply(small_world, "backup")
    assert again.noop and again.plan.empty
    with small_world.connect() as conn:
        conn.execute("UPDATE public.messages SET content = 'edited' WHERE id = %s", [first_message(conn)])
    changed = apply(small_world, "backup")
    assert changed.result.details["schema"] == f"{backup.SCHEMA_PREFIX}002"
    assert first.result.details["schema"] == f"{backup.SCHEMA_PREFIX}001"


def test_the_preview_names_the_schema_the_apply_creates(small_world: LocalDatabase) -> None:
    preview = consolidate(small_world, "backup")
    assert preview.returncode == 0, preview.stderr
    assert f'CREATE SCHEMA "{backup.SCHEMA_PREFIX}001"' in preview.stdout
    applied = consolidate(small_world, "backup", "--apply")
    assert applied.returncode == 0, applied.stderr
    with small_world.connect() as conn:
        assert backup.latest_verified(conn, CONFIG) == f"{backup.SCHEMA_PREFIX}001"


def test_rollback_preview_names_the_schema_it_would_drop(small_world: LocalDatabase) -> None:
    made = apply(small_world, "backup").result.details["schema"]
    shown = consolidate(small_world, "rollback", "--phase", "backup")
    assert shown.returncode == 0, shown.stderr
    assert f'DROP SCHEMA "{made}" CASCADE' in " ".join(shown.stdout.split())
    rollback(small_world, "backup")
    with small_world.connect() as conn:
        assert backup.latest_verified(conn, CONFIG) is None
        gone = "SELECT NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)"
        assert conn.execute(gone, [made]).fetchone()[0]


def test_killed_after_its_commit_the_rerun_replaces_the_unrecorded_schema(small_world: LocalDatabase) -> None:
    killed = consolidate(small_world, "backup", "--apply", env={CRASH_ENV: "backup.committed"})
    assert killed.returncode == -signal.SIGKILL
    preview = consolidate(small_world, "backup")
    with small_world.connect() as conn:
        left = backup.unfinished(conn, CONFIG)
        assert len(left) == 1 and backup.backups(conn, CONFIG) == []
    assert preview.returncode == 0 and f"drop_unfinished {left[0]}" in preview.stdout, preview.stdout
    made = apply(small_world, "backup")
    with small_world.connect() as conn:
        listed = "SELECT array_agg(nspname) FROM pg_namespace WHERE starts_with(nspname, %s)"
        schemas = conn.execute(listed, [backup.SCHEMA_PREFIX]).fetchone()[0]
        assert (made.report.clean, made.result.details["replaced"], schemas) == (
            True,
            left,
            [made.result.details["schema"]],
        )
        assert [b["schema"] for b in backup.backups(conn, CONFIG)] == [made.result.details["schema"]]
        assert backup.unfinished(conn, CONFIG) == []
        records = "SELECT status FROM consolidation.phase_records WHERE phase = 'backup' AND action = 'apply'"
        statuses = [row[0] for row in conn.execute(records + " ORDER BY id")]
    assert statuses == ["interrupted", "completed"]
