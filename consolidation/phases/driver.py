"""The driver: the promises every phase keeps, made once for all of them.

- A preview reads only: the mapping is checked against the database, then the phase plans.
- Apply takes the phase's lock and, before it writes anything, checks that this is the intended
  database, that every phase it builds on is applied and verified (the gate), that the plan has
  no blockers, and that the database has not moved since the plan in a way that changes its
  steps. A refusal writes nothing at all, the journal's schema included.
- Re-applying a phase with nothing left to do is a no-op that writes nothing.
- A dead run's record is marked interrupted by the next run that takes the lock.
- After apply the phase verifies itself and the verdict is journaled: the one rule for "phase X
  is applied and verified" (journal.phase_state) is what every gate reads.
- Rolling back is refused while a phase built on it is applied; a rollback that cannot prove it
  restored the pre-phase state raises inside its record, so it is journaled failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from consolidation.core import journal
from consolidation.core.config import Config
from consolidation.core.errors import (
    ConsolidationError,
    DatabaseMismatch,
    FindingsError,
    PhaseOrderError,
    UsageError,
)
from consolidation.core.names import check_mapping
from consolidation.phases.contract import Context, Events, Phase, Plan, QuietEvents, Report, Result, command
from consolidation.phases.registry import REGISTRY, by_name


@dataclass
class Outcome:
    """What the driver did with a plan: the result, the verdict after it, or nothing (no-op)."""

    phase: str
    action: str
    plan: Plan
    result: Result | None = None
    report: Report | None = None
    record_id: int | None = None

    @property
    def noop(self) -> bool:
        return self.result is None


class PlanChanged(ConsolidationError):
    """The database moved since the plan in a way that changes its steps."""


def preview(phase: Phase, ctx: Context, *, counts: bool = True) -> Plan:
    """What `phase --apply` would run here, read-only (COUNTS False: the steps without the costly
    counting, for an apply the operator previewed already)."""
    check_mapping(ctx.conn, ctx.config, phase.tables)
    return phase.plan(ctx, counts=counts)


def rollback_preview(phase: Phase, ctx: Context) -> Plan:
    """What `phase rollback --apply` would run here, read-only; refused when nothing is applied."""
    _require_applied(phase, ctx)
    return phase.rollback_plan(ctx)


def state(ctx: Context, name: str) -> journal.PhaseState:
    return journal.phase_state(ctx.conn, ctx.config, name)


def gate(phase: Phase, ctx: Context) -> None:
    """Refuse (exit 2) unless every phase PHASE builds on is applied and its verification clean."""
    for name in phase.requires:
        standing = state(ctx, name)
        run_it = command(name, "--apply")
        if standing.unfinished:
            raise PhaseOrderError(
                f"{phase.name} builds on {name}, whose last run did not finish ({standing.unfinished})",
                hint=f"re-run {run_it} to finish it (or pass --force-order)",
            )
        if not standing.applied:
            raise PhaseOrderError(
                f"{phase.name} builds on {name}, which has not been applied",
                hint=f"run {run_it} first (or pass --force-order)",
            )
        if standing.findings is None:
            report = by_name(name).verify(ctx)
            findings = report.counts
        else:
            findings = standing.findings
        failing = {check: count for check, count in findings.items() if count}
        if failing:
            listed = ", ".join(f"{check}: {count}" for check, count in sorted(failing.items()))
            raise PhaseOrderError(
                f"{phase.name} builds on {name}, whose verification has unresolved findings ({listed})",
                hint=f"resolve them, then run {command(name, 'verify')} (or pass --force-order)",
            )


def dependents(name: str) -> list[Phase]:
    """The phases that build on NAME, in registry order."""
    return [phase for phase in REGISTRY if name in phase.requires]


def _require_applied(phase: Phase, ctx: Context) -> journal.PhaseState:
    standing = state(ctx, phase.name)
    if not standing.applied and standing.unfinished is None:
        raise UsageError(
            f"{phase.name} has not been applied: there is nothing to roll back",
            hint=f"{command(phase.name)} previews what applying it would do",
        )
    return standing


def _unchanged(phase: Phase, plan: Plan, current: Plan) -> None:
    if current.hash != plan.hash:
        raise PlanChanged(
            f"the database changed since {phase.name}'s plan was made (plan {plan.hash[:12]}, "
            f"now {current.hash[:12]}): its steps would differ, so nothing was run",
            hint=f"preview again with {command(phase.name)} and apply what it shows",
        )


def apply(phase: Phase, ctx: Context, plan: Plan, *, expected_hash: str | None = None) -> Outcome:
    """Run PLAN (made by preview) under the phase's lock, keeping every promise of the contract."""
    conn, config = ctx.conn, ctx.config
    if expected_hash and not plan.hash.startswith(expected_hash):
        raise PlanChanged(
            f"{phase.name}'s plan is now {plan.hash[:12]}, not the {expected_hash[:12]} you reviewed: "
            "the database changed since, so nothing was run",
            hint=f"preview again with {command(phase.name)} and review what it shows",
        )
    with journal.phase_lock(conn, config, phase.name):
        journal.check_database(conn, config)
        if not ctx.force_order:
            gate(phase, ctx)
        if plan.blockers:
            shown = "; ".join(f"{b.where}: {b.detail}" for b in plan.blockers[:5])
            raise FindingsError(
                f"{phase.name} refused, nothing changed: {len(plan.blockers)} blocker(s) ({shown})",
                hint=f"{command(phase.name, 'plan')} lists them; resolve them, then apply again",
            )
        _unchanged(phase, plan, phase.plan(ctx, counts=False))
        standing = state(ctx, phase.name)
        if plan.empty and standing.verified:
            return Outcome(phase.name, "apply", plan)
        run = journal.start_run(conn, config, ctx.command or f"{phase.name} --apply")
        journal.mark_interrupted(conn, config, phase.name)
        with journal.recorded_phase(conn, run, phase.name, "apply", plan.hash) as record:
            ctx.record = record
            try:
                result = phase.apply(ctx, plan)
            finally:
                ctx.record = None
            record.counts = result.counts
            record.details = {**record.details, **result.details}
        report = phase.verify(ctx)
        journal.record_verdict(conn, run, phase.name, report.counts, {"notes": report.notes})
    return Outcome(phase.name, "apply", plan, result, report, record.id)


def rollback(phase: Phase, ctx: Context, plan: Plan, *, expected_hash: str | None = None) -> Outcome:
    """Undo PHASE exactly, refused while a phase built on it is applied."""
    conn, config = ctx.conn, ctx.config
    if expected_hash and not plan.hash.startswith(expected_hash):
        raise PlanChanged(
            f"{phase.name}'s rollback plan is now {plan.hash[:12]}, not the {expected_hash[:12]} you "
            "reviewed: nothing was run",
            hint=f"preview again with {command(phase.name, 'rollback')}",
        )
    with journal.phase_lock(conn, config, phase.name):
        journal.check_database(conn, config)
        _require_applied(phase, ctx)
        if not ctx.force_order:
            built_on = [
                later.name
                for later in dependents(phase.name)
                if state(ctx, later.name).applied or state(ctx, later.name).unfinished
            ]
            if built_on:
                first = built_on[-1]
                raise PhaseOrderError(
                    f"{', '.join(built_on)} {'is' if len(built_on) == 1 else 'are'} applied and built on "
                    f"{phase.name}: roll back {' then '.join(reversed(built_on))} first",
                    hint=f"run {command(first, 'rollback', '--apply')} first (or pass --force-order)",
                )
        _unchanged(phase, plan, phase.rollback_plan(ctx))
        run = journal.start_run(conn, config, ctx.command or f"{phase.name} rollback --apply")
        journal.mark_interrupted(conn, config, phase.name)
        with journal.recorded_phase(conn, run, phase.name, "rollback", plan.hash) as record:
            ctx.record = record
            try:
                result = phase.rollback(ctx, plan)
            finally:
                ctx.record = None
            record.counts = result.counts
            record.details = {**record.details, **result.details}
    return Outcome(phase.name, "rollback", plan, result, None, record.id)


def verify(phase: Phase, ctx: Context) -> Report:
    """PHASE's verification, its verdict journaled when the phase is applied (gates read it)."""
    check_mapping(ctx.conn, ctx.config, phase.tables)
    report = phase.verify(ctx)
    standing = state(ctx, phase.name)
    if standing.applied or standing.unfinished:
        try:
            run = journal.start_run(ctx.conn, ctx.config, ctx.command or f"{phase.name} verify")
        except DatabaseMismatch:
            return report
        journal.record_verdict(ctx.conn, run, phase.name, report.counts, {"notes": report.notes})
    return report


def verify_all(ctx: Context) -> list[Report]:
    """Every applied phase's verification in registry order: the pure check `consolidate verify`."""
    if not state(ctx, "merge").applied and state(ctx, "merge").unfinished is None:
        raise PhaseOrderError(
            "merge has not run: there is nothing to verify yet",
            hint=f"run {command('merge', '--apply')} first ({command('plan')} shows what it would do)",
        )
    reports = []
    for phase in REGISTRY:
        standing = state(ctx, phase.name)
        if standing.applied or standing.unfinished:
            reports.append(verify(phase, ctx))
    return reports


def plan_all(ctx: Context) -> list[tuple[Phase, Plan | ConsolidationError]]:
    """Every phase's preview from here, in registry order; a phase that cannot plan yet says why."""
    planned: list[tuple[Phase, Plan | ConsolidationError]] = []
    for phase in REGISTRY:
        try:
            planned.append((phase, preview(phase, ctx)))
        except ConsolidationError as exc:
            planned.append((phase, exc))
    return planned


def context(
    conn: psycopg.Connection,
    config: Config,
    database_url: str,
    *,
    environment: Mapping[str, str] | None = None,
    force_order: bool = False,
    command: str = "",
    events: Events | None = None,
    **options: Any,
) -> Context:
    """A Context for library callers (tests, benchmarks): CONN must be in autocommit mode."""
    return Context(
        conn,
        config,
        database_url,
        options=options,
        environment=dict(environment or {}),
        events=events or QuietEvents(),
        force_order=force_order,
        command=command,
    )


def apply_phase(name: str, ctx: Context) -> Outcome:
    """Preview phase NAME and apply what the preview shows, as `consolidate <name> --apply` does."""
    phase = by_name(name)
    return apply(phase, ctx, preview(phase, ctx))


def rollback_phase(name: str, ctx: Context) -> Outcome:
    """Roll back phase NAME, as `consolidate <name> rollback --apply` does."""
    phase = by_name(name)
    return rollback(phase, ctx, rollback_preview(phase, ctx))
