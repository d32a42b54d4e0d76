"""Drift: two environments' chat schema compared object by object, aligned either way to no difference."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from consolidation import drift
from consolidation.core import journal
from consolidation.core.config import Config
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema

CONFIG = Config()
SCOPE = drift.scope(CONFIG)
CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")
_numbers = itertools.count(1)

# Both environments: the legacy schema, a participants table and the first mark_messages_as_read.
COMMON = """
CREATE TABLE public.chat_participants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  chat_id uuid REFERENCES public.chat_sessions (id) ON DELETE CASCADE,
  user_id uuid,
  last_read_at timestamptz
);
CREATE FUNCTION public.mark_messages_as_read(p_chat_id uuid, p_user_id uuid) RETURNS void
  LANGUAGE sql AS $$
  UPDATE public.chat_participants SET last_read_at = now() WHERE chat_id = p_chat_id AND user_id = p_user_id
$$;
"""
# What each environment did on its own (the seeds' Connect-Staging / Connect-Prod story).
ENVIRONMENTS = {
    "staging": """
        ALTER TABLE public.chat_participants
          ALTER COLUMN chat_id SET NOT NULL, ALTER COLUMN user_id SET NOT NULL;
        CREATE INDEX idx_chat_messages_sender_id ON public.chat_messages (sender_id);
    """,
    "production": """
        DROP FUNCTION public.mark_messages_as_read(uuid, uuid);
        CREATE FUNCTION public.mark_messages_as_read(p_chat_id uuid, p_user_id uuid) RETURNS integer
          LANGUAGE plpgsql AS $$
        DECLARE marked integer;
        BEGIN
          UPDATE public.chat_participants SET last_read_at = now()
          WHERE chat_id = p_chat_id AND user_id = p_user_id;
          GET DIAGNOSTICS marked = ROW_COUNT;
          RETURN marked;
        END
        $$;
        CREATE FUNCTION public.get_unread_count(p_user_id uuid) RETURNS integer
          LANGUAGE sql STABLE AS $$
          SELECT count(*)::integer FROM public.chat_messages AS m
          JOIN public.chat_participants AS p ON p.chat_id = m.session_id
          WHERE p.user_id = p_user_id AND m.sender_id <> p_user_id
            AND m.created_at > coalesce(p.last_read_at, '-infinity')
        $$;
        REVOKE ALL ON FUNCTION public.get_unread_count(uuid) FROM PUBLIC, anon;
        CREATE INDEX idx_chat_messages_reply_to ON public.chat_messages (reply_to_message_id);
    """,
}
STAGING_ONLY = {
    ("column", "public.chat_participants.chat_id", "changed"),
    ("column", "public.chat_participants.user_id", "changed"),
    ("index", "public.chat_messages.idx_chat_messages_sender_id", "extra"),
}
PRODUCTION_ONLY = {
    ("function", "public.get_unread_count(p_user_id uuid)", "missing"),
    ("function", "public.mark_messages_as_read(p_chat_id uuid, p_user_id uuid)", "changed"),
    ("index", "public.chat_messages.idx_chat_messages_reply_to", "missing"),
}


def _flip(found: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    changes = {"missing": "extra", "extra": "missing", "changed": "changed"}
    return {(kind, name, changes[change]) for kind, name, change in found}


# source, target, the differences of the target, and those that are drops (withheld by default).
CASES = {
    "production to staging": ("production", "staging", STAGING_ONLY | PRODUCTION_ONLY, STAGING_ONLY),
    "staging to production": (
        "staging",
        "production",
        _flip(STAGING_ONLY) | _flip(PRODUCTION_ONLY),
        {found for found in _flip(PRODUCTION_ONLY) if found[2] == "extra"},
    ),
}


def fresh(local_cluster: LocalCluster, name: str, statements: str) -> LocalDatabase:
    database = local_cluster.create(f"drift_{name}_{os.getpid()}_{next(_numbers)}")
    with database.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(COMMON)
        conn.execute(statements)
    return database


@pytest.fixture
def environments(local_cluster: LocalCluster) -> Iterator[dict[str, LocalDatabase]]:
    made = {name: fresh(local_cluster, name, statements) for name, statements in ENVIRONMENTS.items()}
    try:
        yield made
    finally:
        for database in made.values():
            local_cluster.drop(database)


def shape(report: drift.DriftReport) -> set[tuple[str, str, str]]:
    return {(d.kind, d.name, d.change) for d in report.differences}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_two_environments_are_found_and_aligned_either_way(
    environments: dict[str, LocalDatabase], case: str
) -> None:
    source_name, target_name, expected, drops = CASES[case]
    source, target = environments[source_name], environments[target_name]
    with source.connect() as left, target.connect() as right:
        report = drift.compare_databases(left, right, SCOPE)
        assert shape(report) == expected
        assert {(d.kind, d.name, d.change) for d in report.differences if d.drop} == drops

        # Without --allow-drops: everything but the drops is aligned, the drops stay listed.
        drift.align(right, CONFIG, journal.start_run(right, CONFIG, "test"), report)
        assert shape(drift.compare_databases(left, right, SCOPE)) == drops

    aligned = subprocess.run(
        [CONSOLIDATE, "drift", "--source", source.url, "--target", target.url, "--apply", "--allow-drops"],
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert aligned.returncode == 0, aligned.stdout + aligned.stderr
    assert "drift: 0 differences" in aligned.stdout
    with source.connect() as left, target.connect() as right:
        assert drift.compare_databases(left, right, SCOPE).differences == []
        record = journal.latest(right, CONFIG, drift.PHASE)
        assert record and record["counts"]["aligned"] == len(drops)
        marked = right.execute(
            "SELECT public.mark_messages_as_read(gen_random_uuid(), gen_random_uuid())"
        ).fetchone()
        assert marked == ((0,) if source_name == "production" else (None,))


def test_the_report_shows_the_sql_and_withholds_drops(environments: dict[str, LocalDatabase]) -> None:
    shown = subprocess.run(
        [
            CONSOLIDATE,
            "drift",
            "--source",
            environments["production"].url,
            "--target",
            environments["staging"].url,
            "--out",
            "/dev/stdout",
        ],
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 1, shown.stderr
    assert "6 ways (3 need --allow-drops)" in shown.stderr
    script = shown.stdout[shown.stdout.index("-- Aligns the target") :]
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_chat_messages_reply_to" in script
    assert '-- DROP INDEX CONCURRENTLY IF EXISTS "public"."idx_chat_messages_sender_id";' in script
    assert "RETURNS integer" in script and "REVOKE ALL ON ROUTINE" in script


# Every other kind of object, added to one side: aligning the other creates them all (and, with
# drops allowed the other way round, removes them all).
EVERY_KIND = """
CREATE SCHEMA chat_private;
GRANT USAGE ON SCHEMA chat_private TO authenticated;
CREATE FUNCTION chat_private.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.last_read_at := now(); RETURN NEW; END $$;
CREATE TABLE public.chat_reactions (
  message_id uuid NOT NULL REFERENCES public.chat_messages (id) ON DELETE CASCADE,
  user_id uuid NOT NULL,
  emoji text NOT NULL DEFAULT '👍' CHECK (char_length(emoji) <= 8),
  PRIMARY KEY (message_id, user_id)
);
ALTER TABLE public.chat_reactions ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.chat_reactions FROM anon;
GRANT SELECT (message_id, emoji) ON public.chat_reactions TO anon;
CREATE POLICY "reactions: own" ON public.chat_reactions FOR ALL TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
ALTER TABLE public.chat_participants ADD COLUMN muted boolean NOT NULL DEFAULT false;
ALTER TABLE public.chat_participants ALTER COLUMN last_read_at SET DEFAULT now();
ALTER TABLE public.chat_participants FORCE ROW LEVEL SECURITY;
ALTER TABLE public.chat_participants ADD CONSTRAINT chat_participants_user_fkey
  FOREIGN KEY (user_id) REFERENCES auth.users (id) NOT VALID;
CREATE TRIGGER chat_participants_touch BEFORE UPDATE ON public.chat_participants
  FOR EACH ROW EXECUTE FUNCTION chat_private.touch();
DROP POLICY "chat_messages_access" ON public.chat_messages;
CREATE POLICY "chat_messages_access" ON public.chat_messages FOR SELECT TO authenticated USING (true);
REVOKE TRUNCATE ON public.chat_sessions FROM authenticated;
ALTER TABLE public.chat_participants ADD CONSTRAINT chat_participants_chat_user_key UNIQUE (chat_id, user_id);
ALTER TABLE public.chat_participants ALTER COLUMN last_read_at TYPE timestamptz(0);
"""


@pytest.mark.parametrize("direction", ["source has them", "target has them"])
def test_every_kind_of_object_converges(local_cluster: LocalCluster, direction: str) -> None:
    plain, rich = fresh(local_cluster, "plain", ""), fresh(local_cluster, "rich", EVERY_KIND)
    source, target = (rich, plain) if direction == "source has them" else (plain, rich)
    try:
        with source.connect() as left, target.connect() as right:
            report = drift.compare_databases(left, right, SCOPE)
            kinds = {d.kind for d in report.differences}
            assert kinds == {
                "schema",
                "table",
                "column",
                "function",
                "constraint",
                "trigger",
                "rls",
                "policy",
                "grant",
            }
            drift.align(right, CONFIG, journal.start_run(right, CONFIG, "test"), report, allow_drops=True)
            assert [
                (d.kind, d.name, d.detail) for d in drift.compare_databases(left, right, SCOPE).differences
            ] == []
    finally:
        local_cluster.drop(plain)
        local_cluster.drop(rich)


def test_an_index_build_interrupted_in_the_target_is_rebuilt(local_cluster: LocalCluster) -> None:
    index = "CREATE UNIQUE INDEX {} one_per_session ON public.chat_messages (session_id)"
    source, target = fresh(local_cluster, "source", index.format("")), fresh(local_cluster, "target", "")
    try:
        with target.connect() as right:
            # A unique build over duplicates fails half way and leaves the index behind, invalid.
            right.execute(
                "INSERT INTO public.chat_messages (session_id) "
                "SELECT '00000000-0000-4000-8000-000000000001'::uuid FROM generate_series(1, 2)"
            )
            with pytest.raises(psycopg.errors.UniqueViolation):
                right.execute(index.format("CONCURRENTLY"))
            right.execute("DELETE FROM public.chat_messages")
            with source.connect() as left:
                report = drift.compare_databases(left, right, SCOPE)
                assert [(d.change, d.detail) for d in report.differences] == [
                    ("changed", "invalid in the target (an interrupted build)")
                ]
                drift.align(right, CONFIG, journal.start_run(right, CONFIG, "test"), report)
                assert drift.compare_databases(left, right, SCOPE).differences == []
    finally:
        local_cluster.drop(source)
        local_cluster.drop(target)
