"""Markdown reports, for a pull request: the matrix as a table, then every finding with its evidence."""

from __future__ import annotations

from consolidation.policies.lint import LintReport
from consolidation.policies.probes import Change, Observation, ProbeRun

MARK = {"pass": "✅", "leak": "🔴 LEAK", "break": "🟠 BREAK", "error": "🟣 ERROR", "skipped": "⚪"}


def _cell(observation: Observation | None) -> str:
    if observation is None:
        return ""
    if observation.verdict == "skipped":
        return "⚪ skipped"
    return f"{MARK[observation.verdict]} {observation.outcome}"


def skipped(run: ProbeRun) -> list[str]:
    """The skipped cells with their reasons (a reviewer must see what was not probed)."""
    cells = run.skipped
    lines = ["", f"## Skipped ({len(cells)})", ""]
    if not cells:
        return [*lines, "None: every cell was probed."]
    lines += ["| persona | operation | reason |", "|---|---|---|"]
    lines += [f"| {o.persona} | `{o.operation}` | {_escape(o.skip_reason or '')} |" for o in cells]
    return lines


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def probe(run: ProbeRun) -> str:
    counts = run.counts()
    personas = run.personas_in_order()
    lines = [
        f"# Access probe{f' — {run.label}' if run.label else ''}",
        "",
        f"**{'PASSED' if run.passed else 'FAILED'}** — {counts['leak']} leak(s), {counts['break']} break(s), "
        f"{counts['error']} error(s), {counts['pass']} passed, {counts['skipped']} skipped · "
        f"`{run.database}` · {run.started_at} · {run.duration_ms:.0f} ms · transport `{run.transport}`"
        + (" · legacy tables cut over" if run.conditions.get("legacy_cut_over") else ""),
        "",
        "Each cell: what the database did; ✅ as the spec expects, 🔴 LEAK allowed where denial is expected, "
        "🟠 BREAK denied where it should be allowed, 🟣 ERROR neither (never read as a verdict).",
        "",
        "| operation | expected allowed for | " + " | ".join(personas) + " |",
        "|---|---|" + "---|" * len(personas),
    ]
    for operation in run.operations_in_order():
        first = next(o for o in run.observations if o.operation == operation)
        allowed = [p for p in personas if (c := run.cell(operation, p)) and c.expected == "allowed"]
        cells = [_cell(run.cell(operation, p)) for p in personas]
        lines.append(
            f"| `{operation}` — {_escape(first.title)} | {', '.join(allowed) or 'nobody'} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", "## Personas", "", "| persona | role | user | source |", "|---|---|---|---|"]
    for name, info in run.personas.items():
        lines.append(f"| {name} | {info['role']} | {info.get('sub') or '—'} | {info.get('source')} |")
    findings = run.findings
    lines += ["", f"## Findings ({len(findings)})", ""]
    if not findings:
        lines.append("None: every cell matches the access spec.")
    for o in findings:
        lines += [
            f"### {o.verdict.upper()}: {o.persona} — {o.operation}",
            "",
            f"- spec row: {run.rows.get(o.row, o.row)}",
            f"- expected: {o.expected}; observed: **{o.outcome}**"
            + (f" ({o.rows} row(s))" if o.rows is not None else ""),
        ]
        if o.sqlstate:
            lines.append(f"- evidence: SQLSTATE `{o.sqlstate}` — {_escape(o.message or '')}")
        elif o.message:
            lines.append(f"- evidence: {_escape(o.message)}")
        lines += ["", "```sql", (o.statement or "").strip(), "```", ""]
    lines += skipped(run)
    return "\n".join(lines) + "\n"


def comparison(before: ProbeRun, after: ProbeRun, changes: list[Change]) -> str:
    lines = [
        "# Access probe: what changed for whom",
        "",
        f"before: {before.label or before.started_at} ({before.counts()['leak']} leak(s), "
        f"{before.counts()['break']} break(s)) → after: {after.label or after.started_at} "
        f"({after.counts()['leak']} leak(s), {after.counts()['break']} break(s))",
        "",
    ]
    if not changes:
        return "\n".join([*lines, "No cell changed.", ""])
    lines += ["| persona | operation | expected | before | after |", "|---|---|---|---|---|"]
    for c in changes:
        lines.append(
            f"| {c.persona} | `{c.operation}` | {c.expected} | "
            f"{MARK.get(c.verdict_before, '')} {c.before} | {MARK.get(c.verdict_after, '')} {c.after} |"
        )
    return "\n".join(lines) + "\n"


def lint(report: LintReport) -> str:
    counts = report.counts()
    lines = [
        "# Row level security lint",
        "",
        f"**{'PASSED' if report.passed else 'FAILED'}** (fail on {report.fail_on} and above) — "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
        + f" · `{report.database}` · {report.started_at}",
        "",
    ]
    if not report.findings:
        return "\n".join([*lines, "No findings.", ""])
    lines += ["| severity | rule | object | finding |", "|---|---|---|---|"]
    for f in report.findings:
        lines.append(f"| {f.severity} | `{f.rule}` | `{_escape(f.object)}` | {_escape(f.message)} |")
    return "\n".join(lines) + "\n"
