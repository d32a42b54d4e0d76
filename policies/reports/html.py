"""Self-contained HTML reports: the access matrix as a coloured grid, inline CSS, no scripts."""

from __future__ import annotations

from html import escape

from policies.lint import LintReport
from policies.probes import Observation, ProbeRun

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


def _cell(observation: Observation | None) -> str:
    if observation is None:
        return "<td></td>"
    evidence = (
        f"{observation.sqlstate}: {observation.message}"
        if observation.sqlstate
        else (f"{observation.rows} row(s)" if observation.rows is not None else observation.skip_reason or "")
    )
    label = (
        observation.outcome
        if observation.verdict in ("pass", "skipped")
        else f"{observation.verdict.upper()}: {observation.outcome}"
    )
    return (
        f'<td class="cell {_css(observation)}" title="{escape(evidence)}">{escape(label)}'
        f"<br><small>expected {escape(observation.expected)}</small></td>"
    )


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
        '<table id="matrix"><thead><tr><th>spec row</th><th>operation</th>'
        + "".join(f"<th>{escape(p)}</th>" for p in personas)
        + "</tr></thead><tbody>",
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
            f"<h3>{escape(o.verdict.upper())}: {escape(o.persona)} — <code>{escape(o.operation)}</code></h3>"
            f"<p>expected {escape(o.expected)}, observed <b>{escape(o.outcome)}</b>"
            + (
                f"; SQLSTATE <code>{escape(o.sqlstate)}</code>: {escape(o.message or '')}"
                if o.sqlstate
                else ""
            )
            + f"</p><pre>{escape((o.statement or '').strip())}</pre>"
        )
    return _page("Access probe", body)


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
