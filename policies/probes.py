"""The access matrix: every persona × every operation, observed through a transport and judged
against the access spec; runs serialise to the versioned JSON report and compare with each other."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from consolidation.policies.access_spec import AccessSpec, load_spec
from consolidation.policies.classify import Outcome, Verdict, judge
from consolidation.policies.transport import ProbeTransport, iterate

from consolidation.core import db
from consolidation.core.config import Config
from consolidation.core.errors import UsageError

REPORT_KIND = "consolidation.access-probe"
REPORT_VERSION = 1


@dataclass(frozen=True)
class Observation:
    """One cell of the matrix: what was expected, what the database did, and its evidence."""

    persona: str
    operation: str
    row: str
    title: str
    expected: str  # "allowed" or "denied"
    outcome: str  # an Outcome value, or "skipped"
    verdict: str  # a Verdict value, or "skipped"
    rows: int | None = None
    sqlstate: str | None = None
    message: str | None = None
    statement: str | None = None
    settings: str | None = None
    skip_reason: str | None = None
    probe: str | None = None  # the probe SQL's name, when it is not the operation's id

    @property
    def finding(self) -> bool:
        return self.verdict in (Verdict.LEAK, Verdict.BREAK, Verdict.ERROR)


@dataclass
class ProbeRun:
    """A whole matrix run, as the JSON report stores it (schema: policies/reports/schema)."""

    started_at: str
    duration_ms: float
    database: str
    transport: str
    spec_version: int
    rows: dict[str, str]
    personas: dict[str, dict[str, Any]]
    fixtures: dict[str, Any]
    observations: list[Observation]
    label: str = ""
    setup_statements: list[str] = field(default_factory=list)
    conditions: dict[str, bool] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {verdict.value: 0 for verdict in Verdict} | {"skipped": 0}
        for observation in self.observations:
            counts[observation.verdict] += 1
        return counts

    @property
    def findings(self) -> list[Observation]:
        return [o for o in self.observations if o.finding]

    @property
    def skipped(self) -> list[Observation]:
        """The cells not probed, each with its reason (every report lists them)."""
        return [o for o in self.observations if o.verdict == "skipped"]

    @property
    def passed(self) -> bool:
        return not self.findings

    def personas_in_order(self) -> list[str]:
        return list(self.personas)

    def operations_in_order(self) -> list[str]:
        seen: dict[str, None] = {}
        for observation in self.observations:
            seen.setdefault(observation.operation, None)
        return list(seen)

    def cell(self, operation: str, persona: str) -> Observation | None:
        for observation in self.observations:
            if observation.operation == operation and observation.persona == persona:
                return observation
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": REPORT_KIND,
            "schema_version": REPORT_VERSION,
            "label": self.label,
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 1),
            "database": self.database,
            "transport": self.transport,
            "spec_version": self.spec_version,
            "rows": self.rows,
            "personas": self.personas,
            "fixtures": self.fixtures,
            "conditions": self.conditions,
            "summary": {**self.counts(), "passed": self.passed},
            "skipped": [
                {"persona": o.persona, "operation": o.operation, "reason": o.skip_reason}
                for o in self.skipped
            ],
            "observations": [asdict(o) for o in self.observations],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProbeRun:
        if data.get("kind") != REPORT_KIND or data.get("schema_version") != REPORT_VERSION:
            raise UsageError(
                f"not a version-{REPORT_VERSION} probe report (kind {data.get('kind')!r}, "
                f"schema_version {data.get('schema_version')!r})",
                hint="pass the probe.json written by `consolidate probe --format json`",
            )
        return cls(
            started_at=data["started_at"],
            duration_ms=data["duration_ms"],
            database=data["database"],
            transport=data["transport"],
            spec_version=data["spec_version"],
            rows=data["rows"],
            personas=data["personas"],
            fixtures=data["fixtures"],
            label=data.get("label", ""),
            conditions=data.get("conditions", {}),
            observations=[Observation(**o) for o in data["observations"]],
        )


def run_matrix(
    transport: ProbeTransport, spec: AccessSpec, *, database: str = "", label: str = ""
) -> ProbeRun:
    """Probe every persona × operation of SPEC through TRANSPORT; nothing it does persists."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    observations: list[Observation] = []
    with transport.session(spec) as session:
        for operation, persona in iterate(spec, spec.personas):
            expectation = operation.expectation(session.conditions)
            expected = persona in expectation.allowed
            common = {
                "persona": persona,
                "operation": operation.id,
                "row": expectation.row,
                "title": operation.title,
                "expected": "allowed" if expected else "denied",
                "probe": operation.probe,
            }
            reason = session.skip_reason(operation)
            if reason:
                observations.append(
                    Observation(**common, outcome="skipped", verdict="skipped", skip_reason=reason)
                )
                continue
            # A route the API serves as itself (the public URL) runs as its service role, whoever calls.
            acting = "service_role" if operation.api.runs_as == "service" else persona
            attempt = session.attempt(session.actors[acting], operation)
            observations.append(
                Observation(
                    **common,
                    outcome=attempt.outcome.value,
                    verdict=judge(expected, attempt.outcome).value,
                    rows=attempt.rows,
                    sqlstate=attempt.sqlstate,
                    message=attempt.message,
                    statement=attempt.statement,
                    settings=attempt.settings,
                )
            )
        personas = {
            name: {"role": actor.role, "sub": actor.uid, "email": actor.email, "source": actor.source}
            for name, actor in session.actors.items()
            if name in spec.personas
        }
        fixtures = {k: v for k, v in session.fixtures.items() if isinstance(v, str)}
        conditions = dict(session.conditions)
        setup = list(session.setup_statements)
    return ProbeRun(
        started_at=started.isoformat(timespec="seconds"),
        duration_ms=(time.perf_counter() - clock) * 1000,
        database=database,
        transport=transport.name,
        spec_version=spec.schema_version,
        rows=dict(spec.rows),
        personas=personas,
        fixtures=fixtures,
        observations=observations,
        label=label,
        setup_statements=setup,
        conditions=conditions,
    )


def probe(
    url: str | None,
    config: Config,
    *,
    spec: AccessSpec | None = None,
    label: str = "",
    mode: str = "pick",
    issued_at: int | None = None,
) -> ProbeRun:
    """The default matrix against the database at URL, by SQL impersonation (tokens issued now,
    or at ISSUED_AT)."""
    from consolidation.policies.sql_transport import SqlTransport

    target = db.database_url(url)
    transport = SqlTransport(target, config, mode=mode, issued_at=issued_at)
    return run_matrix(transport, spec or load_spec(), database=db.redact(target), label=label)


@dataclass(frozen=True)
class Change:
    persona: str
    operation: str
    title: str
    expected: str
    before: str
    after: str
    verdict_before: str
    verdict_after: str


def compare_runs(before: ProbeRun, after: ProbeRun) -> list[Change]:
    """The cells whose outcome changed between two runs: what changed for whom."""
    changes = []
    for cell in after.observations:
        old = before.cell(cell.operation, cell.persona)
        old_outcome = old.outcome if old else "absent"
        if old_outcome != cell.outcome:
            changes.append(
                Change(
                    cell.persona,
                    cell.operation,
                    cell.title,
                    cell.expected,
                    old_outcome,
                    cell.outcome,
                    old.verdict if old else "absent",
                    cell.verdict,
                )
            )
    return changes


OUTCOMES = [o.value for o in Outcome] + ["skipped"]
