"""SARIF 2.1.0 for code-scanning UIs: probe findings located at the probe's SQL file, lint
findings at the database object they name."""

from __future__ import annotations

from typing import Any

from consolidation.policies.lint import RULES, LintReport, Severity
from consolidation.policies.probes import ProbeRun

from consolidation.core.journal import tool_version

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
PROBE_RULES = {
    "leak": ("access-leak", "Allowed where the access spec expects denial"),
    "break": ("access-break", "Denied where the access spec expects access"),
    "error": ("access-error", "The probe failed with an error that is neither allowed nor denied"),
    "skipped": ("access-skipped", "Not probed: the database lacks what the operation needs"),
}


def _log(name: str, rules: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": name,
                        "version": tool_version(),
                        "informationUri": "https://supabase.com/docs/guides/database/postgres/row-level-security",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def probe(run: ProbeRun) -> dict[str, Any]:
    rules = [
        {
            "id": rid,
            "name": rid,
            "shortDescription": {"text": text},
            "defaultConfiguration": {"level": "error"},
        }
        for rid, text in PROBE_RULES.values()
    ]
    results = []
    for o in run.skipped:
        results.append(
            {
                "ruleId": PROBE_RULES["skipped"][0],
                "kind": "notApplicable",
                "level": "none",
                "message": {"text": f"skipped: {o.persona} — {o.title}: {o.skip_reason}"},
                "locations": [
                    {"logicalLocations": [{"name": f"{o.persona}/{o.operation}", "kind": "object"}]}
                ],
                "partialFingerprints": {"cell": f"{o.persona}/{o.operation}/skipped"},
                "properties": {"persona": o.persona, "operation": o.operation, "reason": o.skip_reason},
            }
        )
    for o in run.findings:
        rule_id, _ = PROBE_RULES[o.verdict]
        results.append(
            {
                "ruleId": rule_id,
                "level": "error",
                "message": {
                    "text": f"{o.verdict}: {o.persona} — {o.title}: "
                    f"expected {o.expected}, observed {o.outcome}"
                    + (f" (SQLSTATE {o.sqlstate}: {o.message})" if o.sqlstate else "")
                },
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f"sql/policies/probes/{o.probe or o.operation}.sql"}
                        },
                        "logicalLocations": [{"name": f"{o.persona}/{o.operation}", "kind": "object"}],
                    }
                ],
                "partialFingerprints": {"cell": f"{o.persona}/{o.operation}/{o.verdict}"},
                "properties": {
                    "persona": o.persona,
                    "operation": o.operation,
                    "expected": o.expected,
                    "outcome": o.outcome,
                    "sqlstate": o.sqlstate,
                    "statement": o.statement,
                },
            }
        )
    return _log("consolidate probe", rules, results)


def lint(report: LintReport) -> dict[str, Any]:
    rules = [
        {
            "id": r.id,
            "name": r.id,
            "shortDescription": {"text": r.title},
            "help": {"text": r.help},
            "defaultConfiguration": {"level": LEVEL[r.severity]},
        }
        for r in RULES
    ]
    results = [
        {
            "ruleId": f.rule,
            "level": LEVEL[Severity.parse(f.severity)],
            "message": {"text": f"{f.object}: {f.message}"},
            "locations": [{"logicalLocations": [{"name": f.object, "kind": "object"}]}],
            "partialFingerprints": {"object": f"{f.rule}/{f.object}"},
            "properties": {"detail": f.detail},
        }
        for f in report.findings
    ]
    return _log("consolidate lint", rules, results)
