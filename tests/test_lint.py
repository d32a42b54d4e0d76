"""RLS lint: each rule fires on the mistake it names and stays quiet on SPEC's installed policy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import apply

from consolidation.core.config import Config
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema
from policies.lint import RULES, lint

# (case, SQL applied on the legacy schema, rule, object the finding names)
CASES = [
    (
        "policies but RLS off",
        "ALTER TABLE public.chat_messages DISABLE ROW LEVEL SECURITY",
        "rls-disabled",
        "public.chat_messages",
    ),
    ("public table without RLS", "CREATE TABLE public.notes (id int)", "rls-disabled", "public.notes"),
    ("USING (true) on writes", None, "true-on-writes", "public.chat_messages: chat_messages_access"),
    (
        "WITH CHECK (true)",
        "CREATE POLICY ins ON public.bookings FOR INSERT TO authenticated WITH CHECK (true)",
        "true-on-writes",
        "public.bookings: ins",
    ),
    (
        "SELECT-only",
        "DROP POLICY chat_sessions_access ON public.chat_sessions;"
        " CREATE POLICY mine ON public.chat_sessions FOR SELECT"
        " USING ((select auth.uid()) = ANY (participants))",
        "select-only",
        "public.chat_sessions",
    ),
    (
        "UPDATE without WITH CHECK",
        "CREATE POLICY upd ON public.chat_messages FOR UPDATE TO authenticated"
        " USING (sender_id = (select auth.uid()))",
        "missing-with-check",
        "public.chat_messages: upd",
    ),
    (
        "auth.uid() per row",
        "CREATE POLICY rd ON public.chat_sessions FOR SELECT TO authenticated"
        " USING (auth.uid() = ANY (participants))",
        "auth-per-row",
        "public.chat_sessions: rd",
    ),
    (
        "two permissive SELECT policies",
        "CREATE POLICY rd ON public.chat_sessions FOR SELECT TO authenticated"
        " USING ((select auth.uid()) = ANY (participants))",
        "multiple-permissive",
        "public.chat_sessions: SELECT for authenticated",
    ),
    (
        "SECURITY DEFINER without search_path",
        "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
        "security-definer",
        "public.f()",
    ),
    (
        "view without security_invoker",
        "CREATE VIEW public.recent AS SELECT * FROM public.chat_messages",
        "view-not-security-invoker",
        "public.recent",
    ),
]


@pytest.mark.parametrize(("case", "statement", "rule", "obj"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires(case: str, statement: str | None, rule: str, obj: str, empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        if statement:
            conn.execute(statement)
        findings = lint(conn, Config()).findings
    assert (rule, obj) in {(f.rule, f.object) for f in findings}, findings


def test_every_rule_has_a_case() -> None:
    assert {r.id for r in RULES} == {c[2] for c in CASES}


def test_installed_policy_is_clean_on_the_chat_tables(empty_db: LocalDatabase) -> None:
    config = Config()
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(
            "CREATE VIEW public.recent WITH (security_invoker = true) AS SELECT * FROM public.chat_messages"
        )
        apply(empty_db, "policies", force_order=True, include_legacy=True)
        findings = lint(conn, config).findings
    chat = [
        f
        for f in findings
        if any(t in f.object for t in ("chat_", "public.messages", "voice_notes", "recent"))
        or "chat_private" in f.object
        or "chat files" in f.object
    ]
    assert chat == []


def test_cli_exit_code_follows_the_chosen_level(empty_db: LocalDatabase, tmp_path: Path) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute("DROP POLICY bookings_access ON public.bookings")
        conn.execute("DROP POLICY messages_access ON public.messages")
        conn.execute("DROP POLICY voice_notes_access ON public.voice_notes")
        conn.execute("DROP POLICY chat_sessions_access ON public.chat_sessions")
        conn.execute("DROP POLICY chat_messages_access ON public.chat_messages")
        conn.execute('DROP POLICY "profiles are public" ON public.profiles')
        # Only a warning is left: two permissive policies on storage.objects' SELECT.

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from consolidation.cli import main; main()", "lint", *args],
            env=empty_db.environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run("--fail-on", "error", "--out", str(tmp_path), "--format", "json").returncode == 0
    report = json.loads((tmp_path / "lint.json").read_text())
    assert report["summary"]["error"] == 0 and report["summary"]["warning"] >= 1
    assert run("--fail-on", "warning").returncode == 1
    assert run("--fail-on", "loud").returncode == 2
