"""The demo: bring the local stack up, seed it if empty, and run every phase of the registry with --apply.

Each phase is previewed, applied and verified through the same driver the CLI uses; the access
policy is linted and probed before the first phase and after the last, with reports. The
verdict is clean only when every verification, the probe and the lint are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from consolidation.core import db
from consolidation.core.config import Config
from consolidation.phases import driver
from consolidation.phases.contract import Context, QuietEvents, flat_counts
from consolidation.phases.registry import REGISTRY
from consolidation.stack import Stack

Say = Callable[[str], None]
Show = Callable[[str, dict[str, Any]], None]


@dataclass
class Verdict:
    """The demo's outcome: what each step reported, and what kept it from being clean."""

    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def _seeded(conn: psycopg.Connection, config: Config) -> bool:
    found = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", [f"{config.tables.schema_}.messages"]
    ).fetchone()
    return (
        bool(found and found[0]) and conn.execute("SELECT EXISTS (SELECT FROM public.messages)").fetchone()[0]
    )


@dataclass
class Access:
    """One lint and probe of the access policy, and the counts the verdict reads."""

    probed: Any
    counts: dict[str, int]


def access_reports(
    url: str,
    conn: psycopg.Connection,
    config: Config,
    out_dir: Path,
    label: str,
    before: Access | None = None,
) -> Access:
    """Lint and probe, writing every report format under OUT_DIR (with what changed since BEFORE)."""
    from consolidation.policies import reports
    from consolidation.policies.lint import lint
    from consolidation.policies.probes import compare_runs, probe

    formats = list(reports.FORMATS)
    probed = probe(url, config, label=label)
    compared = (before.probed, compare_runs(before.probed, probed)) if before else None
    reports.write_probe(probed, formats, out_dir, compared=compared)
    linted = lint(conn, config, database=db.redact(url))
    reports.write_lint(linted, formats, out_dir)
    counts = probed.counts()
    return Access(
        probed,
        {
            "leaks": counts["leak"],
            "breaks": counts["break"],
            "probe errors": counts["error"],
            "lint errors": linted.counts()["error"],
        },
    )


def run_demo(
    directory: Path | None,
    config: Config,
    *,
    messages: int | None = None,
    say: Say = print,
    show: Show | None = None,
) -> Verdict:
    """Stack up, seed if empty, then preview, apply and verify every phase in registry order."""
    from consolidation.seed import SeedOptions, seed_legacy

    verdict = Verdict()

    def report(title: str, rows: dict[str, Any]) -> None:
        verdict.steps[title] = rows
        if show:
            show(title, rows)

    stack = Stack(directory)
    say(f"starting the local stack in {stack.directory} (a real PostgreSQL on 127.0.0.1)")
    status = stack.up()
    say(
        f"the stack runs on 127.0.0.1:{status.port}; stop it with "
        f"`consolidate stack down --dir {stack.directory}` (its data stays in that folder)"
    )
    url = stack.database_url()
    reports_dir = stack.directory / "reports"
    with db.connection(url, autocommit=True) as conn:
        if not _seeded(conn, config):
            options = SeedOptions.small() if messages is None else SeedOptions.scaled(messages)
            size = f"{options.messages:,} messages, {options.voice_notes:,} voice notes"
            say(f"seeding the legacy dataset ({size})")
            seeded = seed_legacy(url, stack.store_root, options)
            report("seeded", {**seeded.counts, **{f"anomaly: {k}": v for k, v in seeded.anomalies.items()}})
        else:
            say("the stack is seeded already: running the phases on what is there")
        say(f"linting and probing the access policy before the phases (reports in {reports_dir / 'before'})")
        before = access_reports(url, conn, config, reports_dir / "before", "before")
        report("access before", before.counts)
        ctx = Context(
            conn, config, url, environment=stack.environment(), events=QuietEvents(), command="demo"
        )
        # Once the last phase stands applied and verified the consolidation is over: a re-run must
        # not back up the closed system again or merge into it, only verify it.
        complete = driver.state(ctx, REGISTRY[-1].name).verified
        for phase in REGISTRY:
            say(f"{phase.name}: {phase.summary}")
            if complete and driver.state(ctx, phase.name).verified:
                report(phase.name, {"applied": "already, and verified: nothing to do"})
                continue
            plan = driver.preview(phase, ctx)
            done = driver.apply(phase, ctx, plan)
            if done.noop:
                report(phase.name, {"applied": "already, and verified: nothing to do"})
                continue
            assert done.report is not None
            rows = flat_counts(done.result.counts if done.result else {})
            rows["verification"] = "clean" if done.report.clean else f"{done.report.total} findings"
            report(phase.name, rows)
            if not done.report.clean:
                verdict.problems.append(f"{phase.name}'s verification found {done.report.total} findings")
        say(f"linting and probing the access policy after the phases (reports in {reports_dir / 'after'})")
        after = access_reports(url, conn, config, reports_dir / "after", "after", before)
        report("access after", after.counts)
        for name, count in after.counts.items():
            if count:
                verdict.problems.append(f"{count} {name} after the policies")
        say("verifying every phase once more (what `consolidate verify` runs)")
        for checked in driver.verify_all(ctx):
            if not checked.clean:
                verdict.problems.append(
                    f"{checked.phase}: {checked.total} findings in the final verification"
                )
        report("verdict", {"clean": verdict.clean, "problems": "; ".join(verdict.problems) or "none"})
    return verdict
