"""Reports: all five formats from a real probe and lint run; the HTML renders in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path
from typing import Any

import pytest
from conftest import apply
from consolidation.policies import pgtap, reports
from consolidation.policies.access_check import lint_and_report, probe_and_report
from consolidation.policies.access_spec import load_spec
from consolidation.policies.probes import ProbeRun, compare_runs, probe
from consolidation.policies.reports.html import evidence

from consolidation.core.config import Config
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema
from consolidation.stack import Stack

WORLD = Path(__file__).parent / "fixtures" / "policy_sets" / "chat_world.sql"
SCHEMAS = Path(reports.__file__).parent / "schema"
TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def conforms(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """The subset of JSON Schema our report schemas use: type, const, enum, required, properties, items."""
    problems = []
    kinds = schema.get("type")
    if kinds:
        allowed = tuple(
            t
            for k in ([kinds] if isinstance(kinds, str) else kinds)
            for t in (TYPES[k] if isinstance(TYPES[k], tuple) else (TYPES[k],))
        )
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            return [f"{where}: {value!r} is not {kinds}"]
    if "const" in schema and value != schema["const"]:
        problems.append(f"{where}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        problems += [f"{where}.{key}: missing" for key in schema.get("required", []) if key not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                problems += conforms(value[key], sub, f"{where}.{key}")
        if isinstance(schema.get("additionalProperties"), dict):
            for key, item in value.items():
                problems += conforms(item, schema["additionalProperties"], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            problems += conforms(item, schema["items"], f"{where}[{n}]")
    return problems


@pytest.fixture
def legacy_run(empty_db: LocalDatabase) -> ProbeRun:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(WORLD.read_text())
    return probe(empty_db.url, Config(), label="legacy")


def test_all_formats_from_a_failing_run(legacy_run: ProbeRun, tmp_path: Path) -> None:
    written = reports.write_probe(legacy_run, list(reports.FORMATS), tmp_path)
    assert sorted(p.name for p in written) == sorted(
        ["probe.md", "probe.html", "probe.json", "probe.junit.xml", "probe.sarif"]
    )

    data = json.loads((tmp_path / "probe.json").read_text())
    assert conforms(data, json.loads((SCHEMAS / "probe-report.v1.schema.json").read_text())) == []
    assert ProbeRun.from_json(data).counts() == legacy_run.counts()

    suite = ET.parse(tmp_path / "probe.junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(legacy_run.observations) == 5 * len(load_spec().operations)
    leak = next(
        c for c in cases if c.get("classname") == "access.outsider" and c.get("name") == "messages.read"
    )
    failure = leak.find("failure")
    assert failure is not None and failure.get("type") == "leak"
    assert int(suite.get("failures", "0")) == legacy_run.counts()["leak"] + legacy_run.counts()["break"]

    sarif = json.loads((tmp_path / "probe.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    results = sarif["runs"][0]["results"]
    assert len(results) == len(legacy_run.findings) + len(legacy_run.skipped)
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rule_ids
    assert all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("sql/policies/probes/")
        for r in results
    )

    md = (tmp_path / "probe.md").read_text()
    assert "**FAILED**" in md and "### LEAK: outsider — messages.read" in md


def test_lint_formats(empty_db: LocalDatabase, tmp_path: Path) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    report, written = lint_and_report(empty_db.url, Config(), formats=list(reports.FORMATS), out_dir=tmp_path)
    assert len(written) == 5 and not report.passed
    data = json.loads((tmp_path / "lint.json").read_text())
    assert conforms(data, json.loads((SCHEMAS / "lint-report.v1.schema.json").read_text())) == []
    assert ET.parse(tmp_path / "lint.junit.xml").getroot().find("testsuite").findall("testcase")
    assert json.loads((tmp_path / "lint.sarif").read_text())["runs"][0]["results"]
    assert "true-on-writes" in (tmp_path / "lint.html").read_text()


STAND_INS = """
CREATE TEMP TABLE tap (ok boolean, description text);
CREATE FUNCTION pg_temp.plan(integer) RETURNS text LANGUAGE sql AS 'SELECT ''1..'' || $1';
CREATE FUNCTION pg_temp.is(have text, want text, description text) RETURNS text LANGUAGE sql
  AS 'INSERT INTO tap VALUES (have = want, description || '' => '' || have) RETURNING have';
CREATE FUNCTION pg_temp.matches(have text, regex text, description text) RETURNS text LANGUAGE sql
  AS 'INSERT INTO tap VALUES (have ~ regex, description || '' => '' || have) RETURNING have';
CREATE FUNCTION pg_temp.skip(why text, how_many integer) RETURNS text LANGUAGE sql
  AS 'INSERT INTO tap VALUES (NULL, ''skip '' || why) RETURNING why';
CREATE FUNCTION pg_temp.finish() RETURNS SETOF text LANGUAGE sql AS 'SELECT ''done''';
"""


def run_with_stand_ins(conn: Any, text: str) -> list[tuple[bool | None, str]]:
    """TEXT run with a minimal stand-in for the pgTAP functions it uses (the embedded PostgreSQL
    has no pgTAP; tests/test_pgtap.py runs the real one under pg_prove where it is installed)."""
    conn.execute(STAND_INS)
    body = text.replace("CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;", "")
    for name in ("plan", "is", "matches", "skip"):
        body = body.replace(f"SELECT {name}(", f"SELECT pg_temp.{name}(")
    body = body.replace("FROM finish()", "FROM pg_temp.finish()")
    conn.execute(body.replace("ROLLBACK;", "COMMIT;").replace("BEGIN;", ""))
    return conn.execute("SELECT ok, description FROM tap").fetchall()


def test_pgtap_export_runs_the_same_matrix(empty_db: LocalDatabase, tmp_path: Path) -> None:
    """The export reports the same verdicts as the probe, skips what the probe skipped (with its
    reason), and is the same bytes every time for the same spec."""
    config = Config()
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        # One legacy bucket gone: its cells are skipped, in the probe and in the export.
        conn.execute("SELECT set_config('storage.allow_delete_query', 'true', false)")
        conn.execute("DELETE FROM storage.buckets WHERE id = 'voice-notes'")
    apply(empty_db, "policies", force_order=True)
    run = probe(empty_db.url, config, mode="create", issued_at=pgtap.ISSUED_AT)
    exported = [tmp_path / "first" / "access_test.sql", tmp_path / "again" / "access_test.sql"]
    for path in exported:
        probe_and_report(empty_db.url, config, formats=[], out_dir=None, export_pgtap=path)
    text = exported[0].read_text()
    # Derived fixture ids, tokens issued at a fixed time: a committed supabase/tests/ file does not churn.
    assert exported[1].read_text() == text == pgtap.render(run)
    skipped = run.skipped
    assert len(skipped) == 5 * 5
    assert all("bucket voice-notes does not exist" in (o.skip_reason or "") for o in skipped)
    assert text.count("SELECT skip(") == len(skipped)
    assert text.count("SELECT is(") + text.count("SELECT matches(") == len(run.observations) - len(skipped)
    assert f"SELECT plan({len(run.observations)});" in text
    assert "CREATE SCHEMA IF NOT EXISTS extensions;" in text
    with empty_db.connect() as conn:
        results = run_with_stand_ins(conn, text)
    assert len(results) == len(run.observations)
    assert [d for ok, d in results if ok is False] == []
    assert sum(ok is None for ok, _d in results) == len(skipped)


def test_pgtap_export_passes_under_pg_prove(local_stack_pg15: Stack, tmp_path: Path) -> None:
    """As `supabase test db` runs it: pg_prove, Debian's pgTAP, PostgreSQL 15, as postgres."""
    pg_prove = shutil.which("pg_prove")
    if pg_prove is None:
        pytest.skip("pg_prove is not installed (apt-get install libtap-parser-sourcehandler-pgtap-perl)")
    cluster = LocalCluster(local_stack_pg15)
    database = cluster.create(f"test_pgtap_{os.getpid()}")
    try:
        config = Config()
        with database.connect() as conn:
            apply_legacy_schema(conn)
        apply(database, "policies", force_order=True)
        run = probe(database.url, config, mode="create")
        test_file = pgtap.export(run, tmp_path / "access_test.sql")
        psql = Path(local_stack_pg15.settings().pg_bin) / "psql"
        done = subprocess.run(
            [pg_prove, "--psql-bin", str(psql), "--dbname", database.url, "--verbose", str(test_file)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        cluster.drop(database)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert f"ok {5 * 22} - " in done.stdout and "not ok" not in done.stdout
    assert "Result: PASS" in done.stdout


def test_html_renders_in_chromium(legacy_run: ProbeRun, tmp_path: Path) -> None:
    flags = chromium(tmp_path)
    page = reports.write_probe(legacy_run, ["html"], tmp_path)[0]
    html = page.read_text()
    # Self-contained: no script and nothing fetched from elsewhere (the claims' issuer URL is text).
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "fetches from elsewhere"
    assert "&quot;iss&quot;: &quot;http" in html  # the evidence is escaped text, not markup
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr
    assert 'id="matrix"' in dom.stdout
    assert dom.stdout.count('class="cell leak"') == legacy_run.counts()["leak"]
    assert dom.stdout.count('class="cell break"') == legacy_run.counts()["break"]
    # Every cell links to its evidence on the page; every denial shows its evidence in the cell.
    links = re.findall(r'<td class="cell[^"]*"[^>]*><a href="#([^"]+)"', dom.stdout)
    assert len(links) == len(legacy_run.observations)
    assert all(f'id="{target}"' in dom.stdout for target in links)
    denied = [o for o in legacy_run.observations if o.outcome != "allowed"]
    assert dom.stdout.count('<span class="why">') == len(denied)
    assert all(f'<span class="why">{escape(evidence(o), quote=False)}</span>' in dom.stdout for o in denied)
    shot = tmp_path / "probe.png"
    rendered = subprocess.run(
        [*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120
    )
    assert rendered.returncode == 0, rendered.stderr
    assert shot.stat().st_size > 10_000  # a painted grid, not a blank page


def chromium(tmp_path: Path) -> list[str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); the HTML report is not rendered")
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1600,2400",
    ]


def test_compare_html_shows_before_and_after_in_chromium(
    empty_db: LocalDatabase, legacy_run: ProbeRun, tmp_path: Path
) -> None:
    flags = chromium(tmp_path)
    apply(empty_db, "policies", force_order=True)
    after = probe(empty_db.url, Config(), label="after")
    changes = compare_runs(legacy_run, after)
    written = reports.write_probe(after, ["md", "html"], tmp_path, compared=(legacy_run, changes))
    assert sorted(p.name for p in written) == [
        "probe.compare.html",
        "probe.compare.md",
        "probe.html",
        "probe.md",
    ]
    page = tmp_path / "probe.compare.html"
    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr
    changed = re.search(r'<table id="changes">.*?</table>', dom.stdout, re.S)
    assert changed is not None
    # One row per changed cell: before a leak (red), after a pass; each side links to its evidence.
    assert changed.group(0).count("<tr>") == len(changes) + 1
    assert changed.group(0).count('class="cell leak"') == sum(c.verdict_before == "leak" for c in changes)
    links = re.findall(r'href="#([^"]+)"', changed.group(0))
    assert len(links) == 2 * len(changes) and all(f'id="{target}"' in dom.stdout for target in links)
    assert dom.stdout.count('class="cell pass-allowed changed"') + dom.stdout.count(
        'class="cell pass-denied changed"'
    ) == sum(c.verdict_after == "pass" for c in changes)
    shot = tmp_path / "compare.png"
    rendered = subprocess.run(
        [*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120
    )
    assert rendered.returncode == 0, rendered.stderr
    assert shot.stat().st_size > 10_000


def test_the_demos_access_reports_are_written_before_and_after(
    empty_db: LocalDatabase, tmp_path: Path
) -> None:
    from consolidation.demo import access_reports

    config = Config()
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(WORLD.read_text())
        before = access_reports(empty_db.url, conn, config, tmp_path / "before", "before")
        apply(empty_db, "policies", force_order=True, include_legacy=True)
        after = access_reports(empty_db.url, conn, config, tmp_path / "after", "after", before)
    assert before.counts["leaks"] > 0 and before.counts["breaks"] > 0
    assert after.counts["leaks"] == after.counts["breaks"] == after.counts["probe errors"] == 0
    for stage in ("before", "after"):
        assert {p.name for p in (tmp_path / stage).iterdir()} >= {
            "probe.html",
            "lint.sarif",
            "probe.junit.xml",
        }
    assert (tmp_path / "after" / "probe.compare.md").is_file()
