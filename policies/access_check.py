"""The probe and lint verbs as the CLI and CI call them: run, write the reports, decide the exit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from consolidation.policies import pgtap, reports
from consolidation.policies.access_spec import load_spec
from consolidation.policies.lint import LintReport, lint
from consolidation.policies.probes import ProbeRun, compare_runs, probe

from consolidation.core import db
from consolidation.core.config import Config
from consolidation.core.errors import FindingsError, UsageError


@dataclass
class ProbeOutcome:
    run: ProbeRun
    written: list[Path] = field(default_factory=list)


def load_run(path: Path) -> ProbeRun:
    try:
        return ProbeRun.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"cannot read probe report {path}: {exc}", hint="pass a probe.json written by `consolidate probe`"
        ) from exc


def probe_and_report(
    url: str | None,
    config: Config,
    *,
    formats: list[str],
    out_dir: Path | None,
    spec_path: Path | None = None,
    label: str = "",
    compare_with: Path | None = None,
    export_pgtap: Path | None = None,
) -> ProbeOutcome:
    """Probe the matrix, write the reports (and the comparison, the pgTAP file) when asked.

    Does not raise on findings: `require_clean` does, after the caller has shown the result.
    """
    spec = load_spec(spec_path)
    run = probe(url, config, spec=spec, label=label)
    outcome = ProbeOutcome(run)
    if out_dir is not None:
        compared = None
        if compare_with is not None:
            before = load_run(compare_with)
            compared = (before, compare_runs(before, run))
        outcome.written = reports.write_probe(run, formats, out_dir, compared=compared)
    if export_pgtap is not None:
        # The pgTAP file must run on a database without this one's users: fixtures are created,
        # and its tokens issued at a fixed time, so the same spec gives the same file.
        portable = probe(url, config, spec=spec, label=label, mode="create", issued_at=pgtap.ISSUED_AT)
        outcome.written.append(pgtap.export(portable, export_pgtap))
    return outcome


def require_clean(run: ProbeRun) -> None:
    counts = run.counts()
    if not run.passed:
        cells = ", ".join(f"{o.verdict} {o.persona}/{o.operation}" for o in run.findings[:8])
        more = f" and {len(run.findings) - 8} more" if len(run.findings) > 8 else ""
        raise FindingsError(
            f"access probe failed: {counts['leak']} leak(s), {counts['break']} break(s), "
            f"{counts['error']} error(s): {cells}{more}",
            hint="read the report's findings (SQLSTATE, statement per cell), fix the policies, probe again",
        )


def lint_and_report(
    url: str | None, config: Config, *, formats: list[str], out_dir: Path | None, fail_on: str = "error"
) -> tuple[LintReport, list[Path]]:
    target = db.database_url(url)
    with db.connection(target, autocommit=True) as conn:
        report = lint(conn, config, database=db.redact(target), fail_on=fail_on)
    written = reports.write_lint(report, formats, out_dir) if out_dir is not None else []
    return report, written


def require_lint_clean(report: LintReport) -> None:
    failing = report.failing()
    if failing:
        raise FindingsError(
            f"lint: {len(failing)} finding(s) at {report.fail_on} or above: "
            + "; ".join(f"{f.rule} {f.object}" for f in failing[:6]),
            hint="see the lint report for each rule's fix, or raise --fail-on to accept warnings",
        )
