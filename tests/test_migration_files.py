"""Supabase CLI migration files: deterministic, applied as the CLI applies them they do what the phases do,
and their rollback files, run newest first, put the database back exactly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import FIXTURES, apply, consolidate

from consolidation import migration_files
from consolidation.core.config import Config
from consolidation.phases import constraints
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema
from consolidation.stack import Stack

CONFIG = Config()
CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")
# The Supabase CLI's own pattern for a migration file (pkg/migration: migrateFilePattern).
CLI_PATTERN = re.compile(r"^([0-9]+)_(.*)\.sql$")

# Everything the constraints and policies phases change, straight from the catalogs.
STATE = """
SELECT
  (SELECT jsonb_agg(jsonb_build_array(c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid),
                                      c.convalidated) ORDER BY c.conrelid::regclass::text, c.conname)
   FROM pg_constraint AS c
   WHERE c.conrelid IN ('public.chat_messages'::regclass, 'public.chat_sessions'::regclass)),
  (SELECT jsonb_agg(jsonb_build_array(pg_get_indexdef(x.indexrelid), x.indisvalid)
                    ORDER BY pg_get_indexdef(x.indexrelid))
   FROM pg_index AS x
   WHERE x.indrelid IN ('public.chat_messages'::regclass, 'public.chat_sessions'::regclass)),
  (SELECT jsonb_agg(jsonb_build_array(a.attname, a.attnotnull) ORDER BY a.attnum)
   FROM pg_attribute AS a WHERE a.attrelid = 'public.chat_messages'::regclass AND a.attnum > 0),
  (SELECT jsonb_agg(to_jsonb(p) ORDER BY schemaname, tablename, policyname) FROM pg_policies AS p
   WHERE schemaname IN ('public', 'storage')),
  (SELECT jsonb_agg(jsonb_build_array(c.oid::regclass::text, c.relrowsecurity, c.relforcerowsecurity,
                                      c.relacl::text) ORDER BY c.oid::regclass::text)
   FROM pg_class AS c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'),
  (SELECT jsonb_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text) FROM pg_proc AS p
   WHERE p.pronamespace = to_regnamespace('chat_private')),
  to_regnamespace('chat_private') IS NOT NULL,
  (SELECT count(*) FROM pg_trigger WHERE tgname = 'chat_messages_content_only')
"""


def state(conn: psycopg.Connection) -> tuple:
    return conn.execute(STATE).fetchone()


def small_world(database: LocalDatabase) -> psycopg.Connection:
    conn = database.connect()
    apply_legacy_schema(conn)
    conn.execute((FIXTURES / "constraints" / "small_world.sql").read_text(encoding="utf-8"))
    return conn


def run_like_the_cli(psql: Path, database: LocalDatabase, path: Path) -> None:
    """As `supabase migration up` runs a file: in one transaction, except CREATE INDEX
    CONCURRENTLY, which it runs on its own (the files keep those alone in theirs)."""
    single = [] if "CONCURRENTLY" in path.read_text() else ["--single-transaction"]
    done = subprocess.run(
        [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", *single, "-d", database.url, "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{path.name}: {done.stderr}"


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.sql"))}


def test_migrations_do_what_the_phases_do_and_their_rollbacks_undo_them(
    empty_db: LocalDatabase,
    local_cluster: LocalCluster,
    local_stack: Stack,
    tmp_path: Path,
) -> None:
    psql = Path(local_stack.settings().pg_bin) / "psql"
    with small_world(empty_db) as conn:
        before = state(conn)
        for out in ("project", "again"):
            written = consolidate(
                empty_db, "plan", "--no-sql", "--format", "supabase", "--out", str(tmp_path / out)
            )
            assert written.returncode == 0, written.stderr
        assert state(conn) == before, "writing the files wrote to the database"
        project = tmp_path / "project"
        for folder in (migration_files.MIGRATIONS, migration_files.ROLLBACKS):
            assert files(project / folder) == files(tmp_path / "again" / folder), "not deterministic"

        migrations = sorted((project / migration_files.MIGRATIONS).iterdir())
        rollbacks = sorted((project / migration_files.ROLLBACKS).iterdir())
        assert [p.name for p in migrations] == [p.name for p in rollbacks]
        assert all(CLI_PATTERN.match(p.name) for p in migrations)
        assert [p.name[:14] for p in migrations] == [f"2025010100000{n}" for n in range(len(migrations))]
        assert any("validate" in p.name for p in migrations) and migrations[-1].name.endswith(
            "policies_08_apply.sql"
        )
        for path in migrations:
            if "CONCURRENTLY" in path.read_text():
                ends = [
                    line for line in path.read_text().splitlines() if line.endswith(";") and "--" not in line
                ]
                assert len(ends) == 3, f"{path.name} must hold its concurrent build alone (and the SETs)"
        assert (project / migration_files.REVIEW).is_dir(), "the data phases' statements, for review"

        for path in migrations:
            run_like_the_cli(psql, empty_db, path)
        applied = state(conn)
        assert constraints.verify(conn, CONFIG) == [] and constraints.plan(conn, CONFIG).steps == []

        # A file can run again (a half-applied deploy is re-run as it is).
        for path in migrations[:-1]:
            run_like_the_cli(psql, empty_db, path)
        assert state(conn) == applied

        for path in reversed(rollbacks):
            run_like_the_cli(psql, empty_db, path)
        assert state(conn) == before

    twin = local_cluster.create(f"migration_twin_{os.getpid()}")
    try:
        with small_world(twin) as other:
            apply(twin, "constraints", force_order=True)
            apply(twin, "policies", force_order=True)
            assert state(other) == applied, "the migrations and the phases end in different places"
    finally:
        local_cluster.drop(twin)


VERSIONS = {
    "an empty project": ([], "20250101000000"),
    "a project whose own migrations are older": (["20240105093000_init_schema.sql"], "20250101000000"),
    "a project with newer migrations": (
        ["20240105093000_init_schema.sql", "20260301120530_add_bookings.sql"],
        "20260301120600",
    ),
    "our own files from an earlier run do not push the base": (
        ["20260301120530_add_bookings.sql", "20270101000000_consolidate_constraints_01_index_x.sql"],
        "20260301120600",
    ),
    "files the CLI would skip are ignored": (
        ["README.md", "20990101000000-not-a-migration.sql"],
        "20250101000000",
    ),
}


@pytest.mark.parametrize("case", VERSIONS, ids=list(VERSIONS))
def test_versions_follow_the_projects_own_migrations(tmp_path: Path, case: str) -> None:
    present, expected = VERSIONS[case]
    folder = tmp_path / migration_files.MIGRATIONS
    folder.mkdir(parents=True)
    for name in present:
        (folder / name).write_text("SELECT 1;\n")
    assert migration_files.base_version(tmp_path).strftime(migration_files.VERSION_FORMAT) == expected
