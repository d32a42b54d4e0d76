"""The policies phase: plan writes nothing, apply installs SPEC's policy, rollback restores exactly."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from consolidation.core import journal
from consolidation.core.config import Config, parse_config
from consolidation.core.errors import UsageError
from consolidation.phases import policies as install
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema
from policies.probes import probe

CASES = Path(__file__).parent / "fixtures" / "policy_sets"
CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")

# Everything apply may change, read straight from the catalogs.
STATE = """
SELECT
  (SELECT jsonb_agg(to_jsonb(p) ORDER BY schemaname, tablename, policyname) FROM pg_policies AS p
   WHERE schemaname IN ('public', 'storage')) AS policies,
  (SELECT jsonb_agg(jsonb_build_array(c.oid::regclass::text, c.relrowsecurity, c.relforcerowsecurity,
                                      c.relacl::text) ORDER BY c.oid::regclass::text)
   FROM pg_class AS c WHERE c.relnamespace IN ('public'::regnamespace, 'storage'::regnamespace)
     AND c.relkind IN ('r', 'i')) AS tables,
  (SELECT jsonb_agg(jsonb_build_array(a.attrelid::regclass::text, a.attname, a.attacl::text))
   FROM pg_attribute AS a WHERE a.attacl IS NOT NULL
     AND a.attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)) AS columns,
  to_regnamespace('chat_private') IS NOT NULL AS helper_schema,
  (SELECT count(*) FROM pg_trigger WHERE tgname = 'chat_messages_content_only') AS triggers
"""


def world(database: LocalDatabase, case: str) -> psycopg.Connection:
    conn = database.connect()
    apply_legacy_schema(conn)
    conn.execute((CASES / "chat_world.sql").read_text())
    conn.execute((CASES / case / "policies.sql").read_text())
    return conn


def state(conn: psycopg.Connection) -> tuple:
    return conn.execute(STATE).fetchone()


@pytest.mark.parametrize("include_legacy", [False, True])
@pytest.mark.parametrize("case", ["legacy_permissive", "handwritten_select_only"])
def test_apply_then_rollback_restores_exactly(
    case: str, include_legacy: bool, empty_db_each_pg: LocalDatabase
) -> None:
    config = Config()
    with world(empty_db_each_pg, case) as conn:
        before = state(conn)
        install.apply(conn, config, journal.start_run(conn, config, "test"), include_legacy=include_legacy)
        assert state(conn) != before
        install.rollback(conn, config, journal.start_run(conn, config, "test"))
        assert state(conn) == before
        with pytest.raises(UsageError, match="no applied run"):
            install.rollback(conn, config, journal.start_run(conn, config, "test"))


def test_reapply_then_rollback_returns_to_the_first_apply(empty_db: LocalDatabase) -> None:
    config = Config()
    with world(empty_db, "legacy_permissive") as conn:
        install.apply(conn, config, journal.start_run(conn, config, "test"))
        first = state(conn)
        install.apply(conn, config, journal.start_run(conn, config, "test"))
        assert state(conn) == first  # idempotent
        install.rollback(conn, config, journal.start_run(conn, config, "test"))
        assert state(conn) == first


def test_plan_writes_nothing_and_shows_what_apply_runs(empty_db: LocalDatabase) -> None:
    config = Config()
    with world(empty_db, "handwritten_select_only") as conn:
        before = state(conn)
        planned = install.plan(conn, config)
        assert state(conn) == before
        assert {p.name for p in planned.drops} == {
            "chat_sessions_participants_only",
            "chat_messages_session_participants",
            "chat_files_participant_access",
        }
        text = planned.sql_text()
        # Other buckets' storage policies stay.
        assert "chat attachments are readable" not in text
        install.apply(conn, config, journal.start_run(conn, config, "test"))
        record = journal.latest(conn, config, "policies", "apply")
        assert record is not None
        assert record["sql_sha256"] == journal.sql_sha256([s.sql for s in planned.steps])


def test_every_policy_is_written_as_the_issue_demands(empty_db: LocalDatabase) -> None:
    config = Config()
    with world(empty_db, "legacy_permissive") as conn:
        install.apply(conn, config, journal.start_run(conn, config, "test"), include_legacy=True)
        rows = conn.execute(
            "SELECT policyname, cmd, coalesce(qual, '') || ' ' || coalesce(with_check, ''), with_check"
            " FROM pg_policies WHERE schemaname IN ('public', 'storage')"
            " AND (tablename IN ('chat_sessions', 'chat_messages') OR policyname LIKE 'chat files:%')"
        ).fetchall()
        assert len(rows) == 7
        for name, cmd, expressions, with_check in rows:
            assert "auth.uid()" not in expressions.replace("SELECT auth.uid()", ""), name
            if cmd in ("INSERT", "UPDATE"):
                assert with_check, name
        admin = conn.execute(
            "SELECT prosecdef, provolatile, proconfig, has_function_privilege('anon', oid, 'EXECUTE'),"
            " has_function_privilege('authenticated', oid, 'EXECUTE')"
            " FROM pg_proc WHERE oid = 'chat_private.is_chat_admin()'::regprocedure"
        ).fetchone()
        assert admin == (True, "s", ['search_path=""'], False, True)
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
        assert {"chat_sessions_participants_gin_idx", "chat_messages_session_created_idx"} <= indexes


def test_admin_from_the_jwt_claim(empty_db: LocalDatabase) -> None:
    config = parse_config('[policies]\nadmin_source = "claim"\n')
    with world(empty_db, "legacy_permissive") as conn:
        install.apply(conn, config, journal.start_run(conn, config, "test"))
        assert not conn.execute(
            "SELECT prosecdef FROM pg_proc WHERE oid = 'chat_private.is_chat_admin()'::regprocedure"
        ).fetchone()[0]
    run = probe(empty_db.url, config)
    assert run.passed, run.findings
    assert run.cell("messages.read", "admin").outcome == "allowed"


def test_seeded_legacy_database(legacy_db: LocalDatabase) -> None:
    """On the seeder's dataset: the legacy state leaks, the installed policy is clean."""
    config = Config()
    before = probe(legacy_db.url, config)
    assert before.counts()["leak"] > 0
    with legacy_db.connect() as conn:
        install.apply(conn, config, journal.start_run(conn, config, "test"), include_legacy=True)
    after = probe(legacy_db.url, config)
    assert after.passed, after.findings
    assert after.personas["participant"]["source"] == "picked"


def consolidate(
    database: LocalDatabase, *arguments: str, crash_at: str | None = None
) -> subprocess.CompletedProcess:
    environment = database.environment()
    if crash_at:
        environment[install.CRASH_ENV] = crash_at
    return subprocess.run(
        [CONSOLIDATE, "policies", *arguments], env=environment, capture_output=True, text=True, timeout=120
    )


# Killed after the policies' indexes are built, or after their transaction commits: either way
# before the journal record is finished.
@pytest.mark.parametrize("crash_at", ["indexes", "committed"])
def test_apply_killed_part_way_then_rerun_rolls_back_to_the_original(
    crash_at: str, empty_db: LocalDatabase
) -> None:
    config = Config()
    with world(empty_db, "handwritten_select_only") as conn:
        before = state(conn)
    assert consolidate(empty_db, "apply", crash_at=crash_at).returncode == -signal.SIGKILL
    with empty_db.connect() as conn:
        assert state(conn) != before, "the kill landed after apply changed the catalogs"
        assert journal.latest(conn, config, "policies", "apply", status="running") is not None
    refused = consolidate(empty_db, "apply", "--include-legacy")
    assert refused.returncode == 2
    assert "was interrupted and ran without --include-legacy" in " ".join(refused.stderr.split())
    rerun = consolidate(empty_db, "apply")
    assert rerun.returncode == 0, rerun.stderr
    rolled_back = consolidate(empty_db, "rollback")
    assert rolled_back.returncode == 0, rolled_back.stderr
    with empty_db.connect() as conn:
        assert state(conn) == before
