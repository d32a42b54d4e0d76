"""Self-contained HTML reports: the access matrix as a coloured grid whose every cell links to its
evidence (SQLSTATE, message, statement), a run compared with an earlier one; inline CSS, no scripts."""

from __future__ import annotations

import re
from html import escape

from consolidation.policies.lint import LintReport
from consolidation.policies.probes import Change, Observation, ProbeRun

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1f24}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#57606a;margin-bottom:12px}
.status{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:700;color:#fff}
.status.ok{background:#1a7f37}.status.bad{background:#cf222e}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #d0d7de;padding:5px 8px;vertical-align:top;text-align:left}
th{background:#f6f8fa}
td.cell{min-width:120px;font-size:12px}
td.pass-allowed{background:#d1f7d6}td.pass-denied{background:#e7ecf0}
td.leak{background:#ff8182;font-weight:700}td.break{background:#ffb25b;font-weight:700}
td.error{background:#c297ff;font-weight:700}td.skipped{background:#fbfbfb;color:#8c959f}
td.sev-error{background:#ff8182}td.sev-warning{background:#ffd33d}td.sev-info{background:#ddf4ff}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border:1px solid #d0d7de}
pre{background:#f6f8fa;padding:8px;overflow-x:auto;font-size:12px}
small{color:#57606a}
td.cell a{color:inherit}td.cell .why{display:block;color:#3d444d;font-size:11px;margin-top:2px}
section.evidence{border-top:1px solid #d0d7de;padding:4px 0}section.evidence:target{background:#fff8c5}
section.evidence h3{font-size:14px;margin:6px 0}dl{margin:4px 0}dt{font-weight:600;float:left;width:9em}
dd{margin:0 0 2px 9.5em}td.changed{outline:3px solid #0969da;outline-offset:-3px}
"""


LEGEND = (
    ("allowed as expected", "#d1f7d6"),
    ("denied as expected", "#e7ecf0"),
    ("leak", "#ff8182"),
    ("break", "#ffb25b"),
    ("error", "#c297ff"),
)


def _status(ok: bool) -> str:
    return f'<span class="status {"ok" if ok else "bad"}">{"PASSED" if ok else "FAILED"}</span>'


def _page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _css(observation: Observation) -> str:
    if observation.verdict == "pass":
        return "pass-allowed" if observation.outcome == "allowed" else "pass-denied"
    return observation.verdict


def anchor(observation: Observation, prefix: str = "") -> str:
    """The id of a cell's evidence on the page: stable, from its operation and persona."""
    return "ev-" + re.sub(r"[^A-Za-z0-9_-]+", "-", f"{prefix}{observation.operation}-{observation.persona}")


def evidence(observation: Observation) -> str:
    """What the database said, in one line: SQLSTATE and message, rows, or why it was skipped."""
    if observation.verdict == "skipped":
        return f"skipped: {observation.skip_reason or ''}"
    said = " ".join(part for part in (observation.sqlstate, observation.message) if part)
    if said:
        return said
    return f"{observation.rows} row(s)" if observation.rows is not None else ""


def _label(observation: Observation) -> str:
    if observation.verdict in ("pass", "skipped"):
        return observation.outcome
    return f"{observation.verdict.upper()}: {observation.outcome}"


def _cell(observation: Observation | None, prefix: str = "") -> str:
    if observation is None:
        return "<td></td>"
    said = escape(evidence(observation))
    # Denials and skips carry their evidence in the cell itself; every cell links to the rest.
    why = "" if observation.outcome == "allowed" else f'<span class="why">{said}</span>'
    return (
        f'<td class="cell {_css(observation)}" title="{said}">'
        f'<a href="#{anchor(observation, prefix)}">{escape(_label(observation))}</a>'
        f"<br><small>expected {escape(observation.expected)}</small>{why}</td>"
    )


def _evidence_section(run: ProbeRun, o: Observation, prefix: str = "") -> str:
    rows = [
        ("spec row", run.rows.get(o.row, o.row)),
        ("expected", o.expected),
        ("observed", o.outcome),
        ("verdict", o.verdict),
    ]
    if o.skip_reason:
        rows.append(("skipped because", o.skip_reason))
    if o.sqlstate:
        rows.append(("SQLSTATE", o.sqlstate))
    if o.message:
        rows.append(("message", o.message))
    if o.rows is not None:
        rows.append(("rows", str(o.rows)))
    parts = [
        f'<section class="evidence" id="{anchor(o, prefix)}"><h3>{escape(prefix)}{escape(o.persona)} — '
        f"<code>{escape(o.operation)}</code> <small>{escape(o.title)}</small></h3><dl>",
        *(f"<dt>{escape(key)}</dt><dd>{escape(value)}</dd>" for key, value in rows),
        "</dl>",
    ]
    if o.settings:
        parts.append(f"<small>as</small><pre>{escape(o.settings.strip())}</pre>")
    if o.statement:
        parts.append(f"<small>statement</small><pre>{escape(o.statement.strip())}</pre>")
    parts.append('<a href="#matrix"><small>back to the matrix</small></a></section>')
    return "".join(parts)


def _grid(run: ProbeRun, personas: list[str]) -> list[str]:
    body = [
        '<table id="matrix"><thead><tr><th>spec row</th><th>operation</th>'
        + "".join(f"<th>{escape(p)}</th>" for p in personas)
        + "</tr></thead><tbody>"
    ]
    for operation in run.operations_in_order():
        first = next(o for o in run.observations if o.operation == operation)
        body.append(
            f"<tr><td><small>{escape(run.rows.get(first.row, first.row))}</small></td>"
            f"<td><code>{escape(operation)}</code><br><small>{escape(first.title)}</small></td>"
            + "".join(_cell(run.cell(operation, p)) for p in personas)
            + "</tr>"
        )
    body.append("</tbody></table>")
    return body


def probe(run: ProbeRun) -> str:
    counts = run.counts()
    personas = run.personas_in_order()
    ok = run.passed
    body = [
        f"<h1>Access probe{escape(f' — {run.label}' if run.label else '')}</h1>",
        f'<div class="meta">{_status(ok)} '
        f"{counts['leak']} leak(s) · {counts['break']} break(s) · {counts['error']} error(s) · "
        f"{counts['pass']} passed · {counts['skipped']} skipped · {escape(run.database)} · "
        f"{escape(run.started_at)} · {run.duration_ms:.0f} ms</div>",
        '<div class="legend">'
        + "".join(f'<span style="background:{colour}">{name}</span>' for name, colour in LEGEND)
        + "</div>",
        "<h2>Access matrix</h2>",
        f"<p><small>Each cell links to its evidence below; a denial shows it in the cell. "
        f"State: {escape(_state(run))}.</small></p>",
        *_grid(run, personas),
    ]
    body.append("<h2>Personas</h2><table><tr><th>persona</th><th>role</th><th>user</th><th>source</th></tr>")
    for name, info in run.personas.items():
        body.append(
            f"<tr><td>{escape(name)}</td><td>{escape(info['role'])}</td>"
            f"<td><code>{escape(str(info.get('sub') or '—'))}</code></td>"
            f"<td>{escape(str(info.get('source')))}</td></tr>"
        )
    body.append("</table>")
    findings = run.findings
    body.append(f"<h2>Findings ({len(findings)})</h2>")
    if not findings:
        body.append("<p>None: every cell matches the access spec.</p>")
    for o in findings:
        body.append(
            f'<p><a href="#{anchor(o)}"><b>{escape(o.verdict.upper())}</b>: {escape(o.persona)} — '
            f"<code>{escape(o.operation)}</code></a>: expected {escape(o.expected)}, observed "
            f"<b>{escape(o.outcome)}</b> ({escape(evidence(o))})</p>"
        )
    skipped = run.skipped
    body.append(f'<h2 id="skipped">Skipped ({len(skipped)})</h2>')
    if not skipped:
        body.append("<p>None: every cell was probed.</p>")
    else:
        body.append("<table><tr><th>persona</th><th>operation</th><th>reason</th></tr>")
        body += [
            f'<tr><td>{escape(o.persona)}</td><td><a href="#{anchor(o)}"><code>{escape(o.operation)}'
            f"</code></a></td><td>{escape(o.skip_reason or '')}</td></tr>"
            for o in skipped
        ]
        body.append("</table>")
    body.append(f"<h2>Evidence ({len(run.observations)} cells)</h2>")
    body += [_evidence_section(run, o) for o in run.observations]
    return _page("Access probe", body)


def _state(run: ProbeRun) -> str:
    if not run.conditions:
        return "not recorded"
    return ", ".join(f"{name} {'yes' if on else 'no'}" for name, on in sorted(run.conditions.items()))


def comparison(before: ProbeRun, after: ProbeRun, changes: list[Change]) -> str:
    """Two runs side by side: what changed for whom (each cell before → after), then the whole
    matrix as it is after with what each cell was before."""
    personas = after.personas_in_order()
    bc, ac = before.counts(), after.counts()
    body = [
        "<h1>Access probe: before and after</h1>",
        f'<div class="meta">before: {escape(before.label or before.started_at)} '
        f"({bc['leak']} leak(s), {bc['break']} break(s), {bc['error']} error(s)) → after: "
        f"{escape(after.label or after.started_at)} {_status(after.passed)} ({ac['leak']} leak(s), "
        f"{ac['break']} break(s), {ac['error']} error(s))</div>",
        '<div class="legend">'
        + "".join(f'<span style="background:{colour}">{name}</span>' for name, colour in LEGEND)
        + "</div>",
        f"<h2>What changed ({len(changes)} cell(s))</h2>",
    ]
    if not changes:
        body.append("<p>No cell changed.</p>")
    else:
        body.append(
            '<table id="changes"><thead><tr><th>persona</th><th>operation</th><th>expected</th>'
            "<th>before</th><th>after</th></tr></thead><tbody>"
        )
        evidence_sections = []
        for c in changes:
            old, new = before.cell(c.operation, c.persona), after.cell(c.operation, c.persona)
            body.append(
                f"<tr><td>{escape(c.persona)}</td><td><code>{escape(c.operation)}</code><br>"
                f"<small>{escape(c.title)}</small></td><td>{escape(c.expected)}</td>"
                + (_cell(old, "before: ") if old else f"<td>{escape(c.before)}</td>")
                + (_cell(new, "after: ") if new else f"<td>{escape(c.after)}</td>")
                + "</tr>"
            )
            evidence_sections += [
                _evidence_section(run, cell, prefix)
                for run, cell, prefix in ((before, old, "before: "), (after, new, "after: "))
                if cell is not None
            ]
        body.append("</tbody></table>")
    body.append("<h2>The matrix after, with each cell before</h2>")
    body.append(
        '<table id="matrix"><thead><tr><th>operation</th>'
        + "".join(f"<th>{escape(p)}</th>" for p in personas)
        + "</tr></thead><tbody>"
    )
    for operation in after.operations_in_order():
        cells = []
        for persona in personas:
            new = after.cell(operation, persona)
            old = before.cell(operation, persona)
            if new is None:
                cells.append("<td></td>")
                continue
            was = old.outcome if old else "absent"
            mark = "" if old and old.outcome == new.outcome else " changed"
            cells.append(
                f'<td class="cell {_css(new)}{mark}">{escape(_label(new))}'
                f"<br><small>before: {escape(was)}</small></td>"
            )
        body.append(f"<tr><td><code>{escape(operation)}</code></td>{''.join(cells)}</tr>")
    body.append("</tbody></table>")
    if changes:
        body.append(f"<h2>Evidence of what changed ({len(evidence_sections)} cells)</h2>")
        body += evidence_sections
    return _page("Access probe: before and after", body)


def lint(report: LintReport) -> str:
    ok = report.passed
    body = [
        "<h1>Row level security lint</h1>",
        f'<div class="meta">{_status(ok)} '
        + " · ".join(f"{n} {escape(k)}" for k, n in report.counts().items())
        + f" · fail on {escape(report.fail_on)} · {escape(report.database)}"
        + f" · {escape(report.started_at)}</div>",
        '<table id="findings"><thead><tr><th>severity</th><th>rule</th><th>object</th><th>finding</th>'
        "<th>detail</th></tr></thead><tbody>",
    ]
    for f in report.findings:
        body.append(
            f'<tr><td class="sev-{escape(f.severity)}">{escape(f.severity)}</td><td><code>{escape(f.rule)}'
            f"</code></td><td><code>{escape(f.object)}</code></td><td>{escape(f.message)}</td>"
            f"<td><small>{escape(f.detail)}</small></td></tr>"
        )
    body.append("</tbody></table>")
    if not report.findings:
        body.append("<p>No findings.</p>")
    return _page("Row level security lint", body)
