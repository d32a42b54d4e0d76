"""The demo's access step: lint and probe before and after installing the policies, with reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from consolidation.core import db, journal
from consolidation.core.config import Config
from consolidation.phases import policies as install
from policies import reports
from policies.lint import lint
from policies.probes import compare_runs, probe


def run_access_demo(
    conn: psycopg.Connection, config: Config, run: journal.Run, url: str, out_dir: Path
) -> dict[str, Any]:
    """Reports under OUT_DIR/before and OUT_DIR/after (+ after/probe.compare.md); returns a summary.

    CONN is the demo's autocommit connection; URL the same database (the probe opens its own).
    """
    formats = list(reports.FORMATS)
    before = probe(url, config, label="before policies")
    reports.write_probe(before, formats, out_dir / "before")
    reports.write_lint(lint(conn, config, database=db.redact(url)), formats, out_dir / "before")
    install.apply(conn, config, run, include_legacy=True)
    after = probe(url, config, label="after policies")
    reports.write_probe(after, formats, out_dir / "after", compared=(before, compare_runs(before, after)))
    linted = lint(conn, config, database=db.redact(url))
    reports.write_lint(linted, formats, out_dir / "after")
    return {
        "leaks before": before.counts()["leak"],
        "breaks before": before.counts()["break"],
        "leaks after": after.counts()["leak"],
        "breaks after": after.counts()["break"],
        "errors after": after.counts()["error"],
        "lint errors after": linted.counts()["error"],
        "reports": str(out_dir),
    }
