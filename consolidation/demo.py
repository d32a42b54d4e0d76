"""The demo: bring the local stack up, seed it if empty, and run the phases in order with --apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from consolidation.core import db, journal
from consolidation.core.config import Config
from consolidation.phases import backup, constraints, merge, plan, storage, verify
from consolidation.stack import Stack


@dataclass
class DemoStep:
    """One phase of the demo and the summary rows (label -> value) it produced."""

    name: str
    run: Callable[[psycopg.Connection, Config, journal.Run], dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)


def _plan(conn: psycopg.Connection, config: Config, run: journal.Run) -> dict[str, Any]:
    built = plan.build(conn, config)
    return {**built.counts["merge"], "statements": len(built.steps)}


def _backup(conn: psycopg.Connection, config: Config, run: journal.Run) -> dict[str, Any]:
    done = backup.apply(conn, config, run)
    return {
        "schema": done.schema,
        "verified": done.verified,
        **{k: v["rows"] for k, v in done.tables.items()},
    }


def _merge(conn: psycopg.Connection, config: Config, run: journal.Run) -> dict[str, Any]:
    done = merge.apply(conn, config, run)
    return {**done.totals, "batches": done.batches, "sequenced sessions": done.sequenced_sessions}


def _verify(conn: psycopg.Connection, config: Config, run: journal.Run) -> dict[str, Any]:
    report = verify.run(conn, config)
    return {"clean": report.clean, **{f"{k} findings": v for k, v in report.counts.items()}}


def _constraints(conn: psycopg.Connection, config: Config, run: journal.Run) -> dict[str, Any]:
    done = constraints.apply(conn, config, run)
    missing = constraints.verify(conn, config)
    return {"steps run": len(done.steps), "lock retries": len(done.retries), "not in force": len(missing),
            "clean": not missing}


def steps(stack: Stack) -> list[DemoStep]:
    """The demo's phases in order; later phases (constraints, cut-over) append here."""

    def _storage(conn: psycopg.Connection, config: Config, run: journal.Run) -> dict[str, Any]:
        return storage.storage_phase(conn, config, run, stack.database_url(), stack.environment())

    def _policies(conn: psycopg.Connection, config: Config, run: journal.Run) -> dict[str, Any]:
        from consolidation.access_demo import run_access_demo

        summary = run_access_demo(conn, config, run, stack.database_url(), stack.directory / "reports")
        clean = summary["leaks after"] == summary["breaks after"] == summary["errors after"] == 0
        return {**summary, "clean": clean}

    return [
        DemoStep("plan", _plan),
        DemoStep("backup", _backup),
        DemoStep("merge", _merge),
        DemoStep("verify", _verify),
        DemoStep("storage", _storage),
        DemoStep("verify after storage", _verify),
        DemoStep("constraints", _constraints),
        DemoStep("lint, probe, policies, probe", _policies),
    ]


def _seeded(conn: psycopg.Connection, config: Config) -> bool:
    found = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", [f"{config.tables.schema_}.messages"]
    ).fetchone()
    return (
        bool(found and found[0]) and conn.execute("SELECT EXISTS (SELECT FROM public.messages)").fetchone()[0]
    )


def run_demo(
    directory: Path | None,
    config: Config,
    *,
    messages: int | None = None,
    on_step: Callable[[DemoStep], None] | None = None,
) -> list[DemoStep]:
    """Stack up, seed if empty, then every step of steps(), each reported through on_step."""
    from consolidation.seed import SeedOptions, seed_legacy

    stack = Stack(directory)
    stack.up()
    url = stack.database_url()
    with db.connection(url, autocommit=True) as conn:
        if not _seeded(conn, config):
            options = SeedOptions.small() if messages is None else SeedOptions.scaled(messages)
            seed_legacy(url, stack.store_root, options)
        run = journal.start_run(conn, config, "demo")
        done = []
        for step in steps(stack):
            step.summary = step.run(conn, config, run)
            done.append(step)
            if on_step:
                on_step(step)
    return done
