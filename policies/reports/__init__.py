"""Reports of probe runs and lint results: Markdown, self-contained HTML, JSON, JUnit XML, SARIF."""

from __future__ import annotations

import json
from pathlib import Path

from consolidation.policies.lint import LintReport
from consolidation.policies.probes import Change, ProbeRun
from consolidation.policies.reports import html, junit, markdown, sarif

from consolidation.core.errors import UsageError

FORMATS = ("md", "html", "json", "junit", "sarif")
SUFFIX = {"md": "md", "html": "html", "json": "json", "junit": "junit.xml", "sarif": "sarif"}


def parse_formats(text: str) -> list[str]:
    chosen = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in FORMATS]
    if unknown or not chosen:
        raise UsageError(
            f"unknown report format(s): {', '.join(unknown) or '(none)'}",
            hint=f"choose from {','.join(FORMATS)}",
        )
    return chosen


def _write(out_dir: Path, stem: str, fmt: str, text: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}.{SUFFIX[fmt]}"
    path.write_text(text, encoding="utf-8")
    return path


def write_probe(
    run: ProbeRun,
    formats: list[str],
    out_dir: Path,
    *,
    stem: str = "probe",
    compared: tuple[ProbeRun, list[Change]] | None = None,
) -> list[Path]:
    """Write RUN in each of FORMATS under OUT_DIR; with COMPARED, also <stem>.compare.md (and
    <stem>.compare.html when HTML is among FORMATS)."""
    render = {
        "md": lambda: markdown.probe(run),
        "html": lambda: html.probe(run),
        "json": lambda: json.dumps(run.to_json(), indent=2) + "\n",
        "junit": lambda: junit.probe(run),
        "sarif": lambda: json.dumps(sarif.probe(run), indent=2) + "\n",
    }
    written = [_write(out_dir, stem, fmt, render[fmt]()) for fmt in formats]
    if compared:
        before, changes = compared
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{stem}.compare.md"
        path.write_text(markdown.comparison(before, run, changes), encoding="utf-8")
        written.append(path)
        if "html" in formats:
            path = out_dir / f"{stem}.compare.html"
            path.write_text(html.comparison(before, run, changes), encoding="utf-8")
            written.append(path)
    return written


def write_lint(report: LintReport, formats: list[str], out_dir: Path, *, stem: str = "lint") -> list[Path]:
    render = {
        "md": lambda: markdown.lint(report),
        "html": lambda: html.lint(report),
        "json": lambda: json.dumps(report.to_json(), indent=2) + "\n",
        "junit": lambda: junit.lint(report),
        "sarif": lambda: json.dumps(sarif.lint(report), indent=2) + "\n",
    }
    return [_write(out_dir, stem, fmt, render[fmt]()) for fmt in formats]
