"""The probe matrix catches leaks and breaks: one case per policy set under tests/fixtures/policy_sets."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from conftest import apply, consolidate
from consolidation.policies import classify
from consolidation.policies.access_spec import load_spec
from consolidation.policies.classify import Outcome, Verdict
from consolidation.policies.probes import compare_runs, probe

from consolidation.core.config import Config
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

CASES = Path(__file__).parent / "fixtures" / "policy_sets"


def chat_world(database: LocalDatabase, policies_sql: str | None = None) -> None:
    """The legacy schema, a small chat world, and optionally a policy set on top."""
    with database.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute((CASES / "chat_world.sql").read_text())
        if policies_sql:
            conn.execute(policies_sql)


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_policy_set(case: str, empty_db_each_pg: LocalDatabase, tmp_path: Path) -> None:
    folder = CASES / case
    expected = tomllib.loads((folder / "expected.toml").read_text())
    chat_world(empty_db_each_pg, (folder / "policies.sql").read_text())
    if "install" in expected:
        installed = consolidate(
            empty_db_each_pg, "policies", "--apply", "--force-order", *expected["install"]
        )
        assert installed.returncode == 0, installed.stderr

    done = consolidate(empty_db_each_pg, "probe", "--format", "json,junit", "--out", str(tmp_path))

    assert done.returncode == expected["exit_code"], done.stdout + done.stderr
    report = json.loads((tmp_path / "probe.json").read_text())
    cells = {f"{o['persona']} {o['operation']}": o for o in report["observations"]}
    for verdict, names in expected.get("cells", {}).items():
        for name in names:
            assert cells[name]["verdict"] == verdict, (name, cells[name])
    for verdict, count in expected.get("counts", {}).items():
        assert report["summary"][verdict] == count, [o for o in cells.values() if o["verdict"] == verdict]
    # Picked from the world, not invented: the participant is a member of the probed session.
    assert report["personas"]["participant"]["source"] == "picked"
    assert report["fixtures"]["session"] == "10000000-0000-4000-8000-000000000001"


def test_the_probe_leaves_no_trace(empty_db: LocalDatabase) -> None:
    chat_world(empty_db)
    with empty_db.connect() as conn:
        before = conn.execute(
            "SELECT (SELECT count(*) FROM auth.users), (SELECT count(*) FROM chat_messages),"
            " (SELECT count(*) FROM chat_sessions), (SELECT count(*) FROM storage.objects)"
        ).fetchone()
    run = probe(empty_db.url, Config())
    assert run.counts()["leak"] > 0  # the legacy state let the probes write...
    with empty_db.connect() as conn:
        after = conn.execute(
            "SELECT (SELECT count(*) FROM auth.users), (SELECT count(*) FROM chat_messages),"
            " (SELECT count(*) FROM chat_sessions), (SELECT count(*) FROM storage.objects)"
        ).fetchone()
    assert after == before  # ...and none of it stayed


def test_personas_are_created_when_the_database_has_none(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    assert consolidate(empty_db, "policies", "--apply", "--force-order").returncode == 0
    run = probe(empty_db.url, Config())
    assert {info["source"] for name, info in run.personas.items() if info["sub"]} == {"created"}
    assert run.counts()["leak"] == run.counts()["break"] == run.counts()["error"] == 0


def test_before_and_after_says_what_changed_for_whom(empty_db: LocalDatabase, tmp_path: Path) -> None:
    chat_world(empty_db)
    before = consolidate(empty_db, "probe", "--format", "json", "--out", str(tmp_path / "before"))
    assert before.returncode == 1 and "leak" in before.stderr
    assert consolidate(empty_db, "policies", "--apply", "--force-order").returncode == 0
    after = consolidate(
        empty_db,
        "probe",
        "--format",
        "json",
        "--out",
        str(tmp_path / "after"),
        "--compare",
        str(tmp_path / "before" / "probe.json"),
    )
    assert after.returncode == 0, after.stderr
    comparison = (tmp_path / "after" / "probe.compare.md").read_text()
    assert "| outsider | `messages.read` | denied | 🔴 LEAK allowed | ✅ filtered |" in comparison
    assert (
        "| participant | `files.upload_own` | allowed | 🟠 BREAK denied by WITH CHECK | ✅ allowed |"
        in comparison
    )


def test_compare_runs_lists_only_changed_cells(empty_db: LocalDatabase) -> None:
    chat_world(empty_db)
    first, second = probe(empty_db.url, Config()), probe(empty_db.url, Config())
    assert compare_runs(first, second) == []


CLASSIFICATION = [
    # (sqlstate, message, context, trigger functions, outcome)
    (
        "42501",
        'new row violates row-level security policy for table "chat_messages"',
        None,
        (),
        Outcome.DENIED_WITH_CHECK,
    ),
    ("42501", "permission denied for table chat_sessions", None, (), Outcome.DENIED_PRIVILEGE),
    (
        "42501",
        "Direct deletion from storage tables is not allowed. Use the Storage API instead.",
        "PL/pgSQL function storage.protect_delete() line 5 at RAISE",
        ("storage.protect_delete()",),
        Outcome.BLOCKED_TRIGGER,
    ),
    (
        "P0001",
        "custom guard",
        "PL/pgSQL function app.guard() line 3 at RAISE",
        ("app.guard()",),
        Outcome.BLOCKED_TRIGGER,
    ),
    (
        "P0001",
        "raised by a policy helper",
        "PL/pgSQL function app.helper() line 3 at RAISE",
        (),
        Outcome.ERROR,
    ),
    ("42501", "some other insufficient privilege", None, (), Outcome.ERROR),
    ("23503", "insert or update violates foreign key constraint", None, (), Outcome.ERROR),
    ("57014", "canceling statement due to statement timeout", None, (), Outcome.ERROR),
]


@pytest.mark.parametrize(("sqlstate", "message", "context", "triggers", "outcome"), CLASSIFICATION)
def test_classification(
    sqlstate: str, message: str, context: str | None, triggers: tuple, outcome: Outcome
) -> None:
    assert classify.from_error(sqlstate, message, context, lambda f: f in triggers) is outcome


@pytest.mark.parametrize(
    ("expected", "outcome", "verdict"),
    [
        (True, Outcome.ALLOWED, Verdict.PASS),
        (True, Outcome.FILTERED, Verdict.BREAK),
        (True, Outcome.DENIED_WITH_CHECK, Verdict.BREAK),
        (False, Outcome.ALLOWED, Verdict.LEAK),
        (False, Outcome.FILTERED, Verdict.PASS),
        (False, Outcome.BLOCKED_TRIGGER, Verdict.PASS),
        (False, Outcome.ERROR, Verdict.ERROR),
        (True, Outcome.ERROR, Verdict.ERROR),
    ],
)
def test_judgement(expected: bool, outcome: Outcome, verdict: Verdict) -> None:
    assert classify.judge(expected, outcome) is verdict


def test_assertion_helper_for_users_ci(empty_db: LocalDatabase) -> None:
    from consolidation.policies.testing import AccessMatrixError, assert_access_matrix

    chat_world(empty_db, (CASES / "handwritten_select_only" / "policies.sql").read_text())
    with pytest.raises(
        AccessMatrixError,
        match="BREAK participant messages.insert: expected allowed, observed denied by WITH CHECK",
    ):
        assert_access_matrix(empty_db.url)
    assert consolidate(empty_db, "policies", "--apply", "--force-order").returncode == 0
    assert assert_access_matrix(empty_db.url).passed


def test_the_legacy_tables_and_buckets_are_probed_in_every_state(
    legacy_db: LocalDatabase, tmp_path: Path
) -> None:
    """Before the access policy the legacy tables and buckets leak; the interim policies close
    them to their participants; after cut-over the legacy tables are service_role's only."""
    for phase in ("backup", "merge", "storage", "constraints"):
        outcome = apply(legacy_db, phase)
        assert outcome.report is None or outcome.report.clean, (phase, outcome.report)
    before = consolidate(legacy_db, "probe", "--format", "json,md", "--out", str(tmp_path / "before"))
    assert before.returncode == 1, before.stderr
    report = json.loads((tmp_path / "before" / "probe.json").read_text())
    leaks = {f"{o['persona']} {o['operation']}" for o in report["observations"] if o["verdict"] == "leak"}
    assert {
        "anon legacy.messages.read",
        "anon legacy.messages.delete_own",
        "outsider legacy.voice_notes.read",
        "anon legacy.bookings.read",
        "anon legacy_files.chat-attachments.public_url",
        "outsider legacy_files.voice-notes.read",
        "participant legacy_files.voice-notes.remove_other",
    } <= leaks
    assert "LEAK: anon — legacy.messages.read" in (tmp_path / "before" / "probe.md").read_text()
    assert report["conditions"] == {"legacy_cut_over": False} and report["summary"]["skipped"] == 0

    assert consolidate(legacy_db, "policies", "--apply").returncode == 0
    interim = consolidate(legacy_db, "probe", "--format", "json", "--out", str(tmp_path / "interim"))
    assert interim.returncode == 0, interim.stderr
    cells = {
        f"{o['persona']} {o['operation']}": o
        for o in json.loads((tmp_path / "interim" / "probe.json").read_text())["observations"]
    }
    assert cells["participant legacy.messages.insert"]["outcome"] == "allowed"
    assert cells["admin legacy.messages.read"]["outcome"] == "allowed"
    assert cells["admin legacy.messages.insert"]["outcome"] == "denied by WITH CHECK"

    assert consolidate(legacy_db, "cutover", "--apply").returncode == 0
    after = consolidate(legacy_db, "probe", "--format", "json", "--out", str(tmp_path / "after"))
    assert after.returncode == 0, after.stderr
    closed = json.loads((tmp_path / "after" / "probe.json").read_text())
    assert closed["conditions"] == {"legacy_cut_over": True}
    cells = {f"{o['persona']} {o['operation']}": o for o in closed["observations"]}
    assert cells["participant legacy.messages.insert"]["outcome"] == "denied by privilege"
    assert cells["participant legacy.messages.insert"]["row"] == "legacy"
    assert cells["participant legacy.bookings.read"]["outcome"] == "allowed"  # the app's still


def test_claims_per_persona_probe_an_mfa_policy(empty_db: LocalDatabase) -> None:
    """A restrictive policy demanding aal2 shuts out a password-only session (aal1, as the
    probe's tokens say by default) and lets one through once the spec gives it aal2."""
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    assert consolidate(empty_db, "policies", "--apply", "--force-order").returncode == 0
    with empty_db.connect() as conn:
        conn.execute(
            "CREATE POLICY mfa ON chat_messages AS RESTRICTIVE FOR SELECT TO authenticated "
            "USING ((SELECT auth.jwt() ->> 'aal') = 'aal2')"
        )
    spec = load_spec()
    password_only = probe(empty_db.url, Config(), spec=spec, mode="create")
    assert password_only.cell("messages.read", "participant").verdict == "break"
    mfa = spec.model_copy(update={"claims": {"participant": {"aal": "aal2", "amr": [{"method": "totp"}]}}})
    passed = probe(empty_db.url, Config(), spec=mfa, mode="create")
    assert passed.cell("messages.read", "participant").verdict == "pass"
    assert passed.cell("messages.read", "admin").verdict == "break"


def test_each_api_sets_its_own_settings(empty_db: LocalDatabase) -> None:
    """Tables: PostgREST's settings only; storage: the Storage API's, per-claim ones included."""
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    assert consolidate(empty_db, "policies", "--apply", "--force-order").returncode == 0
    run = probe(empty_db.url, Config(), mode="create")
    table = run.cell("messages.read", "participant").settings
    storage = run.cell("files.read", "participant").settings
    assert "'request.jwt.claim.sub'" not in table and "'request.jwt.claim.role'" not in table
    for name in ("request.jwt.claims", "request.headers", "request.cookies", "request.method",
                 "request.path", "search_path"):
        assert f"'{name}'" in table, name
    # The role's own settings over its login's (authenticator: 8s and a lock_timeout).
    assert '"statement_timeout": "8s"' in table and '"lock_timeout": "8s"' in table
    assert '\'"public", "public", "extensions"\'' in table
    for name in ("request.jwt.claim.sub", "request.jwt.claim.role", "request.jwt", "request.headers",
                 "storage.operation", "storage.allow_delete_query"):
        assert f"'{name}'" in storage, name
    claims = json.loads(re.search(r"'request.jwt.claims', '([^']*)'", table).group(1))
    assert {"aal", "amr", "session_id", "exp", "iat", "is_anonymous", "iss", "aud", "sub"} <= set(claims)
    assert claims["aal"] == "aal1" and claims["exp"] > claims["iat"]
    anon = run.cell("messages.read", "anon").settings
    assert '"statement_timeout": "3s"' in anon and '"role": "anon"' in anon
