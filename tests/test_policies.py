"""The policies phase: plan writes nothing, apply installs SPEC's policy, rollback restores exactly."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest
from conftest import apply, consolidate, rollback
from consolidation.policies.probes import probe

from consolidation.core import journal
from consolidation.core.config import Config, parse_config
from consolidation.core.crash import CRASH_ENV
from consolidation.core.errors import UsageError
from consolidation.phases import driver
from consolidation.phases import policies as install
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

CASES = Path(__file__).parent / "fixtures" / "policy_sets"

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
  (SELECT jsonb_agg(jsonb_build_array(id, public) ORDER BY id) FROM storage.buckets) AS buckets,
  (SELECT count(*) FROM pg_proc WHERE pronamespace = to_regnamespace('chat_private')) AS helpers,
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


@pytest.mark.parametrize(
    "options", [{}, {"include_legacy": True}, {"no_interim_legacy": True}], ids=["interim", "closed", "bare"]
)
@pytest.mark.parametrize("case", ["legacy_permissive", "handwritten_select_only"])
def test_apply_then_rollback_restores_exactly(
    case: str, options: dict, empty_db_each_pg: LocalDatabase
) -> None:
    with world(empty_db_each_pg, case) as conn:
        before = state(conn)
        apply(empty_db_each_pg, "policies", force_order=True, **options)
        assert state(conn) != before
        rollback(empty_db_each_pg, "policies")
        assert state(conn) == before
        with pytest.raises(UsageError, match="has not been applied"):
            rollback(empty_db_each_pg, "policies")


def test_reapply_then_rollback_returns_to_the_first_apply(empty_db: LocalDatabase) -> None:
    with world(empty_db, "legacy_permissive") as conn:
        original = state(conn)
        apply(empty_db, "policies", force_order=True)
        first = state(conn)
        again = apply(empty_db, "policies", force_order=True)
        assert again.noop and state(conn) == first  # idempotent: nothing to do, nothing written
        # A second apply that does run (a policy went missing) keeps the first snapshot.
        conn.execute('DROP POLICY "chat_messages: participants and admins read" ON public.chat_messages')
        assert not apply(empty_db, "policies", force_order=True).noop and state(conn) == first
        rollback(empty_db, "policies")
        assert state(conn) == original


def test_plan_writes_nothing_and_shows_what_apply_runs(empty_db: LocalDatabase) -> None:
    config = Config()
    with world(empty_db, "handwritten_select_only") as conn:
        before = state(conn)
        planned = install.plan(conn, config)
        previewed = driver.preview(install.Policies(), driver.context(conn, config, empty_db.url))
        assert state(conn) == before
        chat = {
            "chat_sessions_participants_only",
            "chat_messages_session_participants",
            "chat_files_participant_access",
        }
        # By default the legacy tables' and buckets' permissive policies go too (the interim ones
        # replace them); with --no-interim-legacy other buckets' storage policies stay.
        legacy = {
            "messages_access",
            "voice_notes_access",
            "bookings_access",
            "chat attachments are readable",
            "signed-in users manage voice notes",
        }
        assert {p.name for p in planned.drops} == chat | legacy
        without = install.plan(conn, config, interim_legacy=False)
        assert {p.name for p in without.drops} == chat
        assert "chat attachments are readable" not in without.sql_text()
        assert "legacy" not in " ".join(step.name for step in without.steps)
        apply(empty_db, "policies", force_order=True)
        record = journal.latest(conn, config, "policies", "apply")
        assert record is not None
        assert record["sql_sha256"] == previewed.hash


def test_every_policy_is_written_as_the_issue_demands(empty_db: LocalDatabase) -> None:
    with world(empty_db, "legacy_permissive") as conn:
        apply(empty_db, "policies", force_order=True, include_legacy=True)
        rows = conn.execute(
            "SELECT policyname, cmd, coalesce(qual, '') || ' ' || coalesce(with_check, ''), with_check"
            " FROM pg_policies WHERE schemaname IN ('public', 'storage')"
            " AND (tablename IN ('chat_sessions', 'chat_messages') OR policyname LIKE 'chat files:%')"
        ).fetchall()
        assert len(rows) == 8
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
        apply(empty_db, "policies", config=config, force_order=True)
        assert not conn.execute(
            "SELECT prosecdef FROM pg_proc WHERE oid = 'chat_private.is_chat_admin()'::regprocedure"
        ).fetchone()[0]
    run = probe(empty_db.url, config)
    assert run.passed, run.findings
    assert run.cell("messages.read", "admin").outcome == "allowed"


BOOKING = "10000000-0000-4000-8000-000000000001"
DIRECT = "20000000-0000-4000-8000-000000000001"
ANA, EVA, MAX, ADMIN = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 3, 5, 9))
PHOTO, NOTE, TOP = f"{BOOKING}/{ANA}/photo.jpg", f"{DIRECT}/{EVA}/note.pdf", f"{BOOKING}/top.txt"
# Who reads which chat file: chat_world.sql's two, a file in the booking folder's root, and one
# named like the booking session but outside any folder (only an admin reads that one).
FILE_READERS = [(ANA, [PHOTO, TOP]), (EVA, [NOTE]), (MAX, []), (ADMIN, [BOOKING, PHOTO, TOP, NOTE])]


@pytest.mark.parametrize("operation", ["", "storage.object.list"])
def test_chat_files_read_alike_while_the_storage_api_lists(
    operation: str, empty_db: LocalDatabase
) -> None:
    """The read policy names the caller's files while the Storage API lists (storage.operation)
    and admits every id otherwise; either way exactly the spec's readers see each file."""
    config = parse_config('[policies]\nadmin_source = "claim"\n')
    with world(empty_db, "legacy_permissive") as conn:
        apply(empty_db, "policies", config=config, force_order=True)
        conn.execute(
            "INSERT INTO storage.objects (bucket_id, name) VALUES ('chat-files', %s), ('chat-files', %s)",
            [BOOKING, TOP],
        )
        for user, readable in FILE_READERS:
            claims = {"role": "authenticated", "sub": user}
            if user == ADMIN:
                claims["app_metadata"] = {"role": "admin"}
            with conn.transaction(force_rollback=True):
                conn.execute(
                    "SELECT set_config('role', 'authenticated', true),"
                    " set_config('request.jwt.claims', %s, true), set_config('storage.operation', %s, true)",
                    [json.dumps(claims), operation],
                )
                seen = conn.execute(
                    "SELECT name FROM storage.objects WHERE bucket_id = 'chat-files'"
                    ' ORDER BY name COLLATE "C"'
                ).fetchall()
            assert [name for (name,) in seen] == readable, user


RUI, OLA = "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000004"
LEGACY_FILES = Path(__file__).parent / "fixtures" / "policies" / "legacy_files.sql"
PHOTO_E, DOC, BARE = f"{ANA}/k1/a photo é.jpg", f"{ANA}/k2/doc.pdf", f"{ANA}/k3/bare.pdf"
INLINE, VOICE = f"{EVA}/k4/inline.png", f"{ANA}/1700000000000-k5.webm"
PROFILE_VOICE = f"{ANA}/1700000000001-k6.webm"
# Who reads which legacy file (legacy_files.sql) once the interim policies are in: the uploader,
# the conversation's other participant, admins; Max is in neither conversation.
LEGACY_READERS = {
    ANA: {PHOTO_E, DOC, BARE, VOICE, PROFILE_VOICE},
    RUI: {PHOTO_E, DOC, BARE, VOICE},
    EVA: {INLINE},
    OLA: {INLINE},
    MAX: set(),
    ADMIN: {PHOTO_E, DOC, BARE, INLINE, VOICE, PROFILE_VOICE},
}


def test_legacy_files_are_read_by_the_conversation_that_refers_to_them(empty_db: LocalDatabase) -> None:
    """The interim storage policies: a legacy file is read by its uploader, by the participants of
    the conversation whose legacy row refers to it (in any reference form), and by admins; only its
    uploader removes it; its bucket is no longer public."""
    with world(empty_db, "legacy_permissive") as conn:
        conn.execute(LEGACY_FILES.read_text(encoding="utf-8"))
        apply(empty_db, "policies", force_order=True)
        assert conn.execute("SELECT bool_or(public) FROM storage.buckets").fetchone() == (False,)
        for user, readable in LEGACY_READERS.items():
            with conn.transaction(force_rollback=True):
                conn.execute(
                    "SELECT set_config('role', 'authenticated', true),"
                    " set_config('request.jwt.claims', %s, true),"
                    " set_config('storage.allow_delete_query', 'true', true)",
                    [json.dumps({"role": "authenticated", "sub": user})],
                )
                legacy = ["chat-attachments", "voice-notes"]
                seen = conn.execute(
                    "SELECT name FROM storage.objects WHERE bucket_id = ANY (%s)", [legacy]
                ).fetchall()
                # Writes: only the uploader's own folder (Rui may read Ana's file, not remove it).
                gone = conn.execute(
                    "DELETE FROM storage.objects WHERE bucket_id = ANY (%s) RETURNING name", [legacy]
                ).fetchall()
            assert {name for (name,) in seen} == readable, user
            assert {name for (name,) in gone} == {n for n in readable if n.startswith(f"{user}/")}, user


def test_seeded_legacy_database(legacy_db: LocalDatabase) -> None:
    """On the seeder's dataset: the legacy state leaks, the installed policy is clean."""
    config = Config()
    before = probe(legacy_db.url, config)
    assert before.counts()["leak"] > 0
    apply(legacy_db, "policies", force_order=True, include_legacy=True)
    after = probe(legacy_db.url, config)
    assert after.passed, after.findings
    assert after.personas["participant"]["source"] == "picked"


def policies(
    database: LocalDatabase, *arguments: str, crash_at: str | None = None
) -> subprocess.CompletedProcess:
    return consolidate(
        database,
        "policies",
        *arguments,
        "--force-order",
        env={CRASH_ENV: f"policies.{crash_at}"} if crash_at else None,
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
    assert policies(empty_db, "apply", "--apply", crash_at=crash_at).returncode == -signal.SIGKILL
    with empty_db.connect() as conn:
        assert state(conn) != before, "the kill landed after apply changed the catalogs"
        assert journal.latest(conn, config, "policies", "apply", status="running") is not None
    refused = policies(empty_db, "apply", "--apply", "--include-legacy")
    assert refused.returncode == 2
    assert "applied without --include-legacy" in " ".join(refused.stderr.split())
    rerun = policies(empty_db, "apply", "--apply")
    assert rerun.returncode == 0, rerun.stderr
    rolled_back = policies(empty_db, "rollback", "--apply")
    assert rolled_back.returncode == 0, rolled_back.stderr
    with empty_db.connect() as conn:
        assert state(conn) == before
