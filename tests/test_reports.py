"""Reports: all five formats from a real probe and lint run; the HTML renders in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import apply

from consolidation.core.config import Config
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema
from consolidation.stack import Stack
from policies import pgtap, reports
from policies.access_check import lint_and_report
from policies.probes import ProbeRun, probe

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
    assert len(cases) == len(legacy_run.observations) == 5 * 26
    leak = next(
        c for c in cases if c.get("classname") == "access.outsider" and c.get("name") == "messages.read"
    )
    failure = leak.find("failure")
    assert failure is not None and failure.get("type") == "leak"
    assert int(suite.get("failures", "0")) == legacy_run.counts()["leak"] + legacy_run.counts()["break"]

    sarif = json.loads((tmp_path / "probe.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    results = sarif["runs"][0]["results"]
    assert len(results) == len(legacy_run.findings)
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


def test_pgtap_export_runs_the_same_matrix(empty_db: LocalDatabase, tmp_path: Path) -> None:
    """The export, run with a minimal stand-in for the four pgTAP functions it uses (the embedded
    PostgreSQL has no pgTAP), reports the same verdicts as the probe."""
    config = Config()
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    apply(empty_db, "policies", force_order=True)
    run = probe(empty_db.url, config, mode="create")
    text = pgtap.export(run, tmp_path / "access_test.sql").read_text()
    assert text.count("SELECT is(") + text.count("SELECT matches(") == 5 * 22
    with empty_db.connect() as conn:
        conn.execute("""
            CREATE TEMP TABLE tap (ok boolean, description text);
            CREATE FUNCTION pg_temp.plan(integer) RETURNS text LANGUAGE sql AS 'SELECT ''1..'' || $1';
           CREATE FUNCTION pg_temp.is(have text, want text, description text) RETURNS text LANGUAGE sql
             AS 'INSERT INTO tap VALUES (have = want, description || '' => '' || have) RETURNING have';
           CREATE FUNCTION pg_temp.matches(have text, regex text, description text) RETURNS text LANGUAGE sql
             AS 'INSERT INTO tap VALUES (have ~ regex, description || '' => '' || have) RETURNING have';
            CREATE FUNCTION pg_temp.finish() RETURNS SETOF text LANGUAGE sql AS 'SELECT ''done''';
        """)
        body = text.replace("CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;", "")
        body = body.replace("SELECT plan(", "SELECT pg_temp.plan(").replace(
            "SELECT is(", "SELECT pg_temp.is("
        )
        body = body.replace("SELECT matches(", "SELECT pg_temp.matches(").replace(
            "FROM finish()", "FROM pg_temp.finish()"
        )
        conn.execute(body.replace("ROLLBACK;", "COMMIT;").replace("BEGIN;", ""))
        results = conn.execute("SELECT ok, description FROM tap").fetchall()
    assert len(results) == 5 * 22
    assert [d for ok, d in results if not ok] == []


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
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); the HTML report is not rendered")
    page = reports.write_probe(legacy_run, ["html"], tmp_path)[0]
    html = page.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    flags = [
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
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr
    assert 'id="matrix"' in dom.stdout
    assert dom.stdout.count('class="cell leak"') == legacy_run.counts()["leak"]
    assert dom.stdout.count('class="cell break"') == legacy_run.counts()["break"]
    shot = tmp_path / "probe.png"
    rendered = subprocess.run(
        [*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120
    )
    assert rendered.returncode == 0, rendered.stderr
    assert shot.stat().st_size > 10_000  # a painted grid, not a blank page


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
