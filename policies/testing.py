"""For users' own CI: assert that a database's access matrix matches the access spec."""

from __future__ import annotations

import os
from pathlib import Path

from consolidation.policies.access_spec import AccessSpec, load_spec
from consolidation.policies.probes import ProbeRun, probe

from consolidation.core import db
from consolidation.core.config import Config, load_config


class AccessMatrixError(AssertionError):
    """The matrix has leaks, breaks or errors; the message lists each cell with its evidence."""


def assert_access_matrix(
    url: str,
    spec: AccessSpec | str | Path | None = None,
    *,
    config: Config | str | Path | None = None,
    report_dir: Path | None = None,
) -> ProbeRun:
    """Probe every persona × operation at URL (always rolled back) and fail on any finding.

    SPEC is an AccessSpec or a TOML path (default: SPEC's table); with REPORT_DIR, the five
    reports are written there too (for CI artifacts). Returns the run when it passes.
    """
    # pytest shows a failing frame's arguments, and URL holds the database's password: this frame
    # stays out of the traceback, and the message is masked of every password the process holds.
    __tracebackhide__ = True
    chosen_spec = spec if isinstance(spec, AccessSpec) else load_spec(spec)
    chosen_config = config if isinstance(config, Config) else load_config(config)
    run = probe(url, chosen_config, spec=chosen_spec)
    if report_dir is not None:
        from consolidation.policies import reports

        reports.write_probe(run, list(reports.FORMATS), report_dir)
    if not run.passed:
        lines = [f"access matrix: {len(run.findings)} finding(s)"]
        for o in run.findings:
            evidence = f"SQLSTATE {o.sqlstate}: {o.message}" if o.sqlstate else f"{o.rows} row(s)"
            lines.append(
                f"  {o.verdict.upper()} {o.persona} {o.operation}: expected {o.expected}, "
                f"observed {o.outcome} ({evidence})"
            )
        secrets = db.secrets_given(os.environ, [url])
        raise AccessMatrixError(db.mask("\n".join(lines), secrets))
    return run
