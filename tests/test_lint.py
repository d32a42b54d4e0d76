"""RLS lint: every rule fires on its fixture's mistake at the fixture's severity, stays quiet on
its near miss, and the installed access policy lints clean."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import apply
from consolidation.policies.lint import RULES, lint

from consolidation.core.config import Config
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema

# tests/fixtures/lint/<rule id>/fires.sql (headed by `-- fires on: <object>` and
# `-- severity: <level>`) and quiet.sql, each run on Supabase's bare contract.
FIXTURES = Path(__file__).parent / "fixtures" / "lint"
FOLDERS = sorted(path for path in FIXTURES.iterdir() if path.is_dir())


def header(text: str, key: str) -> str:
    prefix = f"-- {key}: "
    return next(line.removeprefix(prefix).strip() for line in text.splitlines() if line.startswith(prefix))


@pytest.fixture(scope="module")
def contract_db(local_cluster: LocalCluster) -> Iterator[psycopg.Connection]:
    """One bare database for every fixture: each case runs in a transaction that is rolled back."""
    database = local_cluster.create("test_lint_fixtures")
    try:
        with database.connect() as conn:
            yield conn
    finally:
        local_cluster.drop(database)


def findings_after(conn: psycopg.Connection, script: str, rule: str) -> list[tuple[str, str]]:
    with conn.transaction(force_rollback=True):
        conn.execute(script)
        return [(f.object, f.severity) for f in lint(conn, Config()).findings if f.rule == rule]


@pytest.mark.parametrize("folder", FOLDERS, ids=[folder.name for folder in FOLDERS])
def test_rule_fires_on_its_case_and_not_on_the_near_miss(
    folder: Path, contract_db: psycopg.Connection
) -> None:
    fires = (folder / "fires.sql").read_text()
    expected = (header(fires, "fires on"), header(fires, "severity"))
    assert expected in findings_after(contract_db, fires, folder.name)
    assert findings_after(contract_db, (folder / "quiet.sql").read_text(), folder.name) == []


def test_every_rule_has_its_two_cases() -> None:
    assert [folder.name for folder in FOLDERS] == sorted(r.id for r in RULES)
    assert all((folder / "fires.sql").is_file() and (folder / "quiet.sql").is_file() for folder in FOLDERS)


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
        for table, policy in [
            ("bookings", "bookings_access"),
            ("messages", "messages_access"),
            ("voice_notes", "voice_notes_access"),
            ("chat_sessions", "chat_sessions_access"),
            ("chat_messages", "chat_messages_access"),
            ("profiles", "profiles are public"),
        ]:
            conn.execute(f'DROP POLICY "{policy}" ON public.{table}')

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from consolidation.cli import main; main()", "lint", *args],
            env=empty_db.environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )

    # Left: the legacy voice-notes policy (bucket-wide, an error) and warnings on storage.objects.
    assert run("--fail-on", "error", "--out", str(tmp_path), "--format", "json").returncode == 1
    report = json.loads((tmp_path / "lint.json").read_text())
    assert [f["rule"] for f in report["findings"] if f["severity"] == "error"] == ["bucket-wide-policy"]
    with empty_db.connect() as conn:
        conn.execute('DROP POLICY "signed-in users manage voice notes" ON storage.objects')
    assert run("--fail-on", "error", "--out", str(tmp_path), "--format", "json").returncode == 0
    report = json.loads((tmp_path / "lint.json").read_text())
    assert report["summary"]["error"] == 0 and report["summary"]["warning"] >= 1
    assert run("--fail-on", "warning").returncode == 1
    assert run("--fail-on", "loud").returncode == 2
