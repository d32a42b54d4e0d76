"""JUnit XML: one test case per persona × operation (probe), one per rule (lint)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from consolidation.policies.lint import RULES, LintReport
from consolidation.policies.probes import ProbeRun


def _text(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def probe(run: ProbeRun) -> str:
    counts = run.counts()
    root = ET.Element("testsuites", name="consolidate probe")
    suite = ET.SubElement(
        root,
        "testsuite",
        name="access-matrix",
        tests=str(len(run.observations)),
        failures=str(counts["leak"] + counts["break"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=f"{run.duration_ms / 1000:.3f}",
        timestamp=run.started_at,
    )
    for o in run.observations:
        case = ET.SubElement(suite, "testcase", classname=f"access.{o.persona}", name=o.operation, time="0")
        evidence = (
            f"expected {o.expected}, observed {o.outcome}"
            + (f"; SQLSTATE {o.sqlstate}: {o.message}" if o.sqlstate else "")
            + (f"; {o.rows} row(s)" if o.rows is not None else "")
        )
        if o.verdict in ("leak", "break"):
            failure = ET.SubElement(case, "failure", type=o.verdict, message=f"{o.verdict}: {evidence}")
            failure.text = o.statement or ""
        elif o.verdict == "error":
            error = ET.SubElement(case, "error", type=o.sqlstate or "error", message=evidence)
            error.text = o.statement or ""
        elif o.verdict == "skipped":
            ET.SubElement(case, "skipped", message=o.skip_reason or "skipped")
        else:
            ET.SubElement(case, "system-out").text = evidence
    return _text(root)


def lint(report: LintReport) -> str:
    failing = {id(f) for f in report.failing()}
    root = ET.Element("testsuites", name="consolidate lint")
    suite = ET.SubElement(
        root,
        "testsuite",
        name="rls-lint",
        tests=str(len(RULES)),
        failures=str(len({f.rule for f in report.failing()})),
        errors="0",
        skipped="0",
        timestamp=report.started_at,
    )
    for rule in RULES:
        case = ET.SubElement(suite, "testcase", classname="rls-lint", name=rule.id, time="0")
        found = [f for f in report.findings if f.rule == rule.id]
        text = "\n".join(f"[{f.severity}] {f.object}: {f.message}" for f in found)
        if any(id(f) in failing for f in found):
            ET.SubElement(
                case, "failure", type=rule.id, message=f"{len(found)} finding(s): {rule.title}"
            ).text = text
        elif found:
            ET.SubElement(case, "system-out").text = text
    return _text(root)
