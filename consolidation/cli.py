"""The `consolidate` command: a thin skin over the library; every phase's commands come from the registry.

One convention for every writing command: without --apply it previews (the exact SQL or object
operations, the counts, the plan's hash) and writes nothing; with --apply it runs what it
previewed. Every phase offers the same verbs:

    consolidate <phase> [--apply]                 preview, or apply
    consolidate <phase> plan|apply|verify|rollback [--apply]
    consolidate rollback --phase <phase> [--apply]
    consolidate plan | verify                     every phase
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click
import psycopg
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.table import Table

from consolidation.core.errors import ConsolidationError, ExitCode, FindingsError, UsageError
from consolidation.core.journal import tool_version
from consolidation.phases.contract import flat_counts

# Output for people (results) on stdout, what happens meanwhile on stderr. Off a terminal the
# width is unbounded, so no table ever cuts an id.
_WIDE = None if sys.stdout.isatty() else 100_000
out = Console(width=_WIDE, highlight=False)
console = Console(stderr=True, width=None if sys.stderr.isatty() else 100_000, highlight=False)
# How often a long step says where it is when nobody watches a terminal.
PROGRESS_SECONDS = 5.0
# Object operations a preview lists before it points at --out for the rest.
SHOWN_OPERATIONS = 200


# --- output --------------------------------------------------------------------------------------


def summary(title: str, rows: dict[str, Any]) -> None:
    table = Table(title=escape(title), show_header=False, title_justify="left")
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    for key, value in rows.items():
        table.add_row(escape(str(key)), escape(f"{value:,}" if isinstance(value, int) else str(value)))
    out.print(table)


def say(text: str) -> None:
    console.print(escape(text), soft_wrap=True)


def _json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


class CliEvents:
    """A running phase's progress: bars on a terminal, a line every few seconds elsewhere."""

    def __init__(self) -> None:
        self.totals: dict[str, int | None] = {}
        self.done: dict[str, int] = {}
        self.last_line = time.monotonic()
        self.bars: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    @contextmanager
    def shown(self) -> Iterator[CliEvents]:
        if console.is_terminal:
            with Progress(console=console, transient=True) as bars:
                self.bars = bars
                yield self
            self.bars = None
        else:
            yield self

    def progress(self, task: str, advance: int = 0, *, total: int | None = None) -> None:
        if total is not None or task not in self.totals:
            self.totals[task] = total if total is not None else self.totals.get(task)
        self.done[task] = self.done.get(task, 0) + advance
        if self.bars is not None:
            if task not in self.tasks:
                self.tasks[task] = self.bars.add_task(task, total=self.totals[task])
            self.bars.update(self.tasks[task], completed=self.done[task], total=self.totals[task])
            return
        now = time.monotonic()
        if now - self.last_line >= PROGRESS_SECONDS:
            self.last_line = now
            total_text = f" / {self.totals[task]:,}" if self.totals.get(task) else ""
            say(f"{task}: {self.done[task]:,}{total_text}")

    def say(self, text: str) -> None:
        say(text)

    def retry(self, event: Any) -> None:
        say(f"retry: {event.step} (attempt {event.attempt}): {event.error}")


def show_plan(plan: Any, *, with_sql: bool, heading: str) -> None:
    """A plan as the operator reviews it: counts, blockers, notes, then every step's exact text."""
    from consolidation.phases.contract import command

    out.print(f"[bold]{escape(heading)}[/] — plan {plan.hash[:12]}, {len(plan.steps)} steps")
    if plan.counts:
        summary(f"{plan.phase}: {'would touch' if plan.action == 'apply' else 'would restore'}", plan.counts)
    for blocker in plan.blockers:
        out.print(f"[red]blocker:[/] {escape(blocker.where)}: {escape(blocker.detail)}", soft_wrap=True)
    for note in plan.notes:
        out.print(f"note: {escape(note)}", soft_wrap=True)
    if with_sql:
        operations = 0
        out.file.flush()
        for step in plan.steps:
            # Written as they are, not through rich: exact, and linear in their length (a 100 KB
            # reference costs what it weighs).
            if step.sql:
                repeats = f" (runs {step.repeats})" if step.repeats else ""
                print(f"-- {step.name}{repeats}\n{step.sql.strip()}")
                continue
            operations += 1
            if operations <= SHOWN_OPERATIONS:
                print(step.operation)
        if operations > SHOWN_OPERATIONS:
            out.print(
                f"… and {operations - SHOWN_OPERATIONS:,} more operations "
                f"({command(plan.phase, 'plan', '--out', 'DIR')} writes every one)",
                markup=False,
            )
    elif plan.steps:
        out.print(f"{len(plan.steps)} steps (--sql shows each one's text)")


def show_report(report: Any) -> None:
    state = "clean" if report.clean else f"{report.total:,} findings"
    summary(f"{report.phase} verify: {state}", {**report.counts, **report.notes})
    if report.findings:
        table = Table("check", "where", "finding", title=f"{report.phase}: findings (first of each check)")
        for column in table.columns[:2]:
            column.no_wrap = True
        for finding in report.findings:
            table.add_row(escape(finding.check), escape(finding.where), escape(finding.detail))
        out.print(table)


# --- shared options ----------------------------------------------------------------------------

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _options(*decorators: Decorator) -> Decorator:
    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


CONNECTION = _options(
    click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        help="Config TOML (default: the SPEC mapping).",
    ),
    click.option("--database-url", help="Database URL (default: $DATABASE_URL)."),
)
APPLY = click.option("--apply", is_flag=True, help="Write to the database (otherwise: preview only).")
FORCE_ORDER = click.option(
    "--force-order", is_flag=True, help="Run although a phase it builds on is not applied and verified."
)
PLAN_HASH = click.option(
    "--plan-hash", help="Refuse unless the plan's hash starts with this (the one you reviewed)."
)
SHOW_SQL = click.option("--sql/--no-sql", "with_sql", default=True, help="Show every step's exact text.")
FORMAT = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", help="Output format."
)


def _phase_options(phase: Any) -> Decorator:
    decorators = []
    for option in phase.options:
        if option.type is bool:
            decorators.append(click.option(option.cli_name, option.name, is_flag=True, help=option.help))
            continue
        kind: Any = option.type
        if option.minimum is not None or option.maximum is not None:
            range_type = click.IntRange if option.type is int else click.FloatRange
            kind = range_type(option.minimum, option.maximum)
        decorators.append(
            click.option(option.cli_name, option.name, type=kind, default=None, help=option.help)
        )
    return _options(*decorators)


@contextmanager
def opened(config_path: Path | None, database_url: str | None, **context: Any) -> Iterator[Any]:
    """The phases' context: the configuration, one autocommit connection, the environment."""
    from consolidation.core import db
    from consolidation.core.config import load_config
    from consolidation.phases.contract import Context

    config = load_config(config_path)
    url = db.database_url(database_url)
    with db.connection(url, autocommit=True) as conn:
        yield Context(conn, config, url, environment=dict(os.environ), command=_command_line(), **context)


def _command_line() -> str:
    from consolidation.core import db

    return db.mask(shlex.join(["consolidate", *sys.argv[1:]]), db.secrets_given(os.environ, sys.argv))


# --- the phase commands, made from the registry ----------------------------------------------


def _preview_or_apply(phase: Any, kwargs: dict[str, Any]) -> None:
    from consolidation.phases import driver

    options = {option.name: kwargs.get(option.name) for option in phase.options}
    with opened(
        kwargs["config_path"], kwargs["database_url"], options=options, force_order=kwargs["force_order"]
    ) as ctx:
        plan = driver.preview(phase, ctx, counts=not kwargs["apply"])
        if kwargs["output_format"] == "json" and not kwargs["apply"]:
            _json(plan.as_json())
            return
        if not kwargs["apply"]:
            show_plan(plan, with_sql=kwargs["with_sql"], heading=f"{phase.name} would run")
            out.print(
                "nothing written: pass --apply to run it"
                + (f" (--plan-hash {plan.hash[:12]} holds it to this plan)" if plan.steps else "")
            )
            return
        say(f"{phase.name}: applying plan {plan.hash[:12]} ({len(plan.steps)} steps)")
        events = CliEvents()
        ctx.events = events
        with events.shown():
            done = driver.apply(phase, ctx, plan, expected_hash=kwargs["plan_hash"])
    _show_outcome(done, kwargs["output_format"])


def _show_outcome(done: Any, output_format: str) -> None:
    if output_format == "json":
        _json(
            {
                "phase": done.phase,
                "action": done.action,
                "plan": done.plan.hash,
                "noop": done.noop,
                "record": done.record_id,
                "counts": done.result.counts if done.result else {},
                "verify": done.report.as_json() if done.report else None,
            }
        )
    elif done.noop:
        out.print(f"{done.phase}: nothing to do (already applied and verified); nothing written")
    else:
        summary(
            f"{done.phase} {done.action} (journal record {done.record_id})", flat_counts(done.result.counts)
        )
        # What the phase left alone or could not do, with the reason (copies that failed, rows
        # the database refused): listed, never silent.
        for kind in ("failed", "refused"):
            for line in done.result.details.get(kind, []):
                out.print(f"{kind}: {line}", markup=False, soft_wrap=True)
        if done.report is not None:
            show_report(done.report)
    if done.report is not None and not done.report.clean:
        from consolidation.phases.contract import command

        raise FindingsError(
            f"{done.phase} applied, but its verification found {done.report.total} findings",
            hint=f"see the list above; after fixing, {command(done.phase, 'verify')} records a new verdict",
        )


def _rollback(phase: Any, kwargs: dict[str, Any]) -> None:
    from consolidation.phases import driver

    with opened(kwargs["config_path"], kwargs["database_url"], force_order=kwargs["force_order"]) as ctx:
        plan = driver.rollback_preview(phase, ctx)
        if not kwargs["apply"]:
            if kwargs["output_format"] == "json":
                _json(plan.as_json())
                return
            show_plan(plan, with_sql=kwargs["with_sql"], heading=f"rollback of {phase.name} would run")
            out.print("nothing written: pass --apply to run it")
            return
        events = CliEvents()
        ctx.events = events
        with events.shown():
            done = driver.rollback(phase, ctx, plan, expected_hash=kwargs["plan_hash"])
    if kwargs["output_format"] == "json":
        _json(
            {
                "phase": done.phase,
                "action": "rollback",
                "record": done.record_id,
                "counts": done.result.counts,
            }
        )
    else:
        summary(
            f"rollback of {phase.name} (journal record {done.record_id}; pre-phase state proved)",
            flat_counts(done.result.counts),
        )


def _verify(phase: Any, kwargs: dict[str, Any]) -> None:
    from consolidation.phases import driver

    with opened(kwargs["config_path"], kwargs["database_url"]) as ctx:
        report = driver.verify(phase, ctx)
    _report_out([report], kwargs["output_format"])


def _report_out(reports: list[Any], output_format: str) -> None:
    if output_format == "json":
        _json({"clean": all(r.clean for r in reports), "phases": [r.as_json() for r in reports]})
    else:
        for report in reports:
            show_report(report)
    failing = [r for r in reports if not r.clean]
    if failing:
        from consolidation.phases.contract import command

        raise FindingsError(
            "verification found " + ", ".join(f"{r.total:,} findings in {r.phase}" for r in failing),
            hint="see the lists above (quarantined rows are fates, not findings); after fixing, "
            + command(failing[0].phase, "verify")
            + " records a new verdict",
        )


def _plan_files(phase: Any, kwargs: dict[str, Any]) -> None:
    from consolidation.phases import driver
    from consolidation.phases.contract import write_steps

    options = {option.name: kwargs.get(option.name) for option in phase.options}
    with opened(kwargs["config_path"], kwargs["database_url"], options=options) as ctx:
        plan = driver.preview(phase, ctx)
    if kwargs["output_format"] == "json":
        _json(plan.as_json())
    else:
        show_plan(plan, with_sql=kwargs["with_sql"], heading=f"{phase.name} would run")
    if kwargs.get("out_dir"):
        written = write_steps(plan.steps, kwargs["out_dir"]) + _write_files(plan, kwargs["out_dir"])
        say(f"wrote {len(written)} files to {kwargs['out_dir']}")


def _write_files(plan: Any, directory: Path) -> list[Path]:
    """The files a phase's plan offers its reviewer besides the steps (the storage move map)."""
    written = []
    for name, data in (plan.files() if plan.files else {}).items():
        (directory / name).write_bytes(data)
        written.append(directory / name)
    return written


def _phase_group(phase: Any) -> click.Group:
    phase_options = _phase_options(phase)

    @click.group(
        name=phase.name, invoke_without_command=True, help=f"{phase.summary} Preview; --apply runs it."
    )
    @APPLY
    @FORCE_ORDER
    @PLAN_HASH
    @SHOW_SQL
    @FORMAT
    @phase_options
    @CONNECTION
    @click.pass_context
    def group(click_ctx: click.Context, **kwargs: Any) -> None:
        if click_ctx.invoked_subcommand is not None:
            given = [name for name, value in kwargs.items() if value not in (None, False, "text", True)]
            if given:
                raise UsageError(
                    f"options of `consolidate {phase.name}` go after its verb ({', '.join(given)})",
                    hint=f"e.g. `consolidate {phase.name} {click_ctx.invoked_subcommand} --apply`",
                )
            return
        _preview_or_apply(phase, kwargs)

    @group.command("apply", help=f"{phase.summary} Preview; --apply runs it.")
    @APPLY
    @FORCE_ORDER
    @PLAN_HASH
    @SHOW_SQL
    @FORMAT
    @phase_options
    @CONNECTION
    def apply_command(**kwargs: Any) -> None:
        _preview_or_apply(phase, kwargs)

    @group.command("plan", help=f"What {phase.name} would run here: counts and every step. Writes nothing.")
    @SHOW_SQL
    @FORMAT
    @click.option(
        "--out", "out_dir", type=click.Path(path_type=Path), help="Also write each step as a file here."
    )
    @phase_options
    @CONNECTION
    def plan_command(**kwargs: Any) -> None:
        _plan_files(phase, kwargs)

    @group.command("verify", help=f"Prove {phase.name}'s result; exit 1 listing the findings, 0 when clean.")
    @FORMAT
    @CONNECTION
    def verify_command(**kwargs: Any) -> None:
        _verify(phase, kwargs)

    @group.command(
        "rollback", help=f"Undo {phase.name} exactly and prove the pre-phase state. Preview; --apply runs it."
    )
    @APPLY
    @FORCE_ORDER
    @PLAN_HASH
    @SHOW_SQL
    @FORMAT
    @CONNECTION
    def rollback_command(**kwargs: Any) -> None:
        _rollback(phase, kwargs)

    return group


# --- the transition window ---------------------------------------------------------------------


@click.command("sync")
@APPLY
@click.option("--once", is_flag=True, help="Forward what waits now, then exit.")
@click.option(
    "--max-seconds",
    type=click.FloatRange(0),
    help="Stop after this long (default: until stopped or cut-over).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    help="Captured changes per transaction (default: sync.batch_size).",
)
@SHOW_SQL
@FORMAT
@CONNECTION
def sync_command(
    apply: bool,
    once: bool,
    max_seconds: float | None,
    batch_size: int | None,
    with_sql: bool,
    output_format: str,
    **kwargs: Any,
) -> None:
    """Forward captured legacy writes into chat_messages until stopped or cut over. Preview; --apply runs."""
    import signal
    import threading

    from consolidation.phases import sync

    with opened(kwargs["config_path"], kwargs["database_url"]) as ctx:
        if not apply:
            plan = sync.plan(ctx)
            if output_format == "json":
                _json(plan.as_json())
                return
            show_plan(plan, with_sql=with_sql, heading="sync would run")
            out.print("nothing written: pass --apply to run it")
            return
        stop = threading.Event()
        # SIGTERM and SIGINT finish the step under way: a forwarding commits or rolls back whole.
        previous = {
            number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)
        }
        ctx.events = CliEvents()
        say(
            "sync: forwarding captured legacy changes into chat_messages until SIGTERM/SIGINT or the cut-over"
        )
        try:
            result = sync.run(ctx, stop=stop, once=once, max_seconds=max_seconds, batch_size=batch_size)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    if output_format == "json":
        _json({"phase": "sync", "action": "apply", "record": result.record_id, "counts": result.as_counts()})
    else:
        summary(f"sync (journal record {result.record_id})", flat_counts(result.as_counts()))


# --- the command -------------------------------------------------------------------------------


class InOrder(click.Group):
    """Lists its commands in an operator's order: first the stack and the demo, then `plan`, the
    phases as the registry orders them, `verify` and `rollback`, then the reviewer's tools."""

    FIRST = ("demo", "stack", "plan")
    LAST = ("verify", "rollback", "probe", "lint", "drift")

    def list_commands(self, ctx: click.Context) -> list[str]:
        ranked = [name for name in self.FIRST if name in self.commands]
        ranked += [name for name in self.commands if name not in (*self.FIRST, *self.LAST)]
        return ranked + [name for name in self.LAST if name in self.commands]


@click.group(
    cls=InOrder, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110}
)
@click.version_option(tool_version(), prog_name="consolidate")
@click.option("--debug", is_flag=True, help="On an internal error, print its traceback.")
def app(debug: bool) -> None:
    """Consolidate a Supabase chat app's messaging systems, and prove the result.

    Every writing command previews what it would do and writes only with --apply.
    """


def _register_phases() -> None:
    from consolidation.phases.registry import REGISTRY, names

    for phase in REGISTRY:
        if phase.name == "cutover":
            # The transition window's command, in an operator's order: after the phases that
            # prepare the new system, before the cut-over that ends the window.
            app.add_command(sync_command)
        app.add_command(_phase_group(phase))

    @app.command("rollback", help="Undo one phase exactly (same as `consolidate <phase> rollback`).")
    @click.option(
        "--phase", "phase_name", type=click.Choice(names()), required=True, help="The phase to undo."
    )
    @APPLY
    @FORCE_ORDER
    @PLAN_HASH
    @SHOW_SQL
    @FORMAT
    @CONNECTION
    def rollback_command(phase_name: str, **kwargs: Any) -> None:
        from consolidation.phases.registry import by_name

        _rollback(by_name(phase_name), kwargs)


@app.command("plan")
@click.option("--sql/--no-sql", "with_sql", default=False, help="Also print every step's exact text.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sql", "supabase"]),
    default="text",
    help="text or json on stdout; with --out: sql writes a file per step, supabase Supabase CLI migrations.",
)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Write the steps as files here.")
@CONNECTION
def plan_command(with_sql: bool, output_format: str, out_dir: Path | None, **kwargs: Any) -> None:
    """Every phase's plan from here, in order: counts (the SQL with --sql). Writes nothing to the database."""
    from consolidation import migration_files
    from consolidation.phases import driver
    from consolidation.phases.contract import write_steps

    with opened(kwargs["config_path"], kwargs["database_url"]) as ctx:
        planned = driver.plan_all(ctx)
        if out_dir and output_format == "supabase":
            review = [
                s
                for _, p in planned
                if not isinstance(p, Exception) and p.phase in ("backup", "merge")
                for s in p.steps
            ]
            written = migration_files.write(ctx.conn, ctx.config, out_dir, review=review)
            say(f"wrote {len(written)} files under {out_dir / 'supabase'}")
    if output_format == "json":
        _json(
            [
                p.as_json(with_steps=with_sql)
                if not isinstance(p, Exception)
                else {"phase": phase.name, "cannot_plan": str(p)}
                for phase, p in planned
            ]
        )
    else:
        for phase, plan in planned:
            if isinstance(plan, Exception):
                out.print(f"[bold]{phase.name}[/]: cannot plan yet — {escape(str(plan))}", soft_wrap=True)
                continue
            show_plan(plan, with_sql=with_sql, heading=phase.name)
    if out_dir and output_format in ("text", "sql"):
        steps = [s for _, p in planned if not isinstance(p, Exception) for s in p.steps]
        written = write_steps(steps, out_dir)
        for _, plan in planned:
            if not isinstance(plan, Exception):
                written += _write_files(plan, out_dir)
        say(f"wrote {len(written)} files to {out_dir}")


@app.command("verify")
@FORMAT
@CONNECTION
def verify_command(output_format: str, **kwargs: Any) -> None:
    """Prove every applied phase's result (rows, files, constraints, access); exit 1 on any finding."""
    from consolidation.phases import driver

    with opened(kwargs["config_path"], kwargs["database_url"]) as ctx:
        reports = driver.verify_all(ctx)
    _report_out(reports, output_format)


# --- stack, demo, probe, lint, drift ----------------------------------------------------------

DIR = click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    help="Stack folder (default: $CONSOLIDATION_STACK_DIR or .consolidate/stack).",
)


@app.group("stack")
def stack_group() -> None:
    """The local Supabase stack (PostgreSQL + file store)."""


def _print_status(status: Any) -> None:
    rows = {"folder": str(status.directory), "running": "yes" if status.running else "no"}
    if status.port:
        rows["port"] = str(status.port)
    if status.server_version:
        rows["server"] = f"PostgreSQL {status.server_version} (pid {status.pid})"
    if status.pg_bin:
        rows["binaries"] = status.pg_bin
    if status.contract_current is not None:
        rows["contract"] = "current" if status.contract_current else "outdated: run `consolidate stack reset`"
    summary("stack", rows)


@stack_group.command("up")
@DIR
@click.option("--port", type=int, help="TCP port on 127.0.0.1.")
@click.option("--pg-bin", type=click.Path(path_type=Path), help="Use an installed PostgreSQL's bin folder.")
@click.option("--durable", is_flag=True, help="Keep fsync on (slower; the default stack is disposable).")
def stack_up(directory: Path | None, port: int | None, pg_bin: Path | None, durable: bool) -> None:
    """Start the local stack (reusing the one in DIR if there is one)."""
    from consolidation.stack import Stack

    _print_status(Stack(directory).up(port=port, pg_bin=pg_bin, durable=durable))


@stack_group.command("reset")
@DIR
def stack_reset(directory: Path | None) -> None:
    """Apply Supabase's contract again (roles, grants, default privileges), over an app's changes."""
    from consolidation.stack import Stack

    _print_status(Stack(directory).reset())


@stack_group.command("down")
@DIR
def stack_down(directory: Path | None) -> None:
    """Stop the local stack's server (its data stays)."""
    from consolidation.stack import Stack

    _print_status(Stack(directory).down())


@stack_group.command("status")
@DIR
def stack_status(directory: Path | None) -> None:
    """Show whether the local stack runs, and where (exit 3 when it does not)."""
    from consolidation.stack import Stack

    status = Stack(directory).status()
    _print_status(status)
    if not status.running:
        sys.exit(ExitCode.UNREACHABLE)


@stack_group.command("env")
@DIR
def stack_env(directory: Path | None) -> None:
    """Print `export NAME=value` lines for every other command: eval "$(consolidate stack env)"."""
    from consolidation.stack import Stack

    for name, value in Stack(directory).environment().items():
        print(f"export {name}={shlex.quote(value)}")


@stack_group.command("seed")
@DIR
@click.option(
    "--messages", type=click.IntRange(0), default=100_000, show_default=True, help="Legacy messages."
)
@click.option("--users", type=click.IntRange(0), help="Default: in proportion to --messages.")
@click.option("--bookings", type=click.IntRange(0), help="Default: in proportion to --messages.")
@click.option("--voice-notes", type=click.IntRange(0), help="Default: in proportion to --messages.")
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same bytes.")
@click.option("--reset", is_flag=True, help="First drop a previous seed (tables, users, objects, journal).")
def stack_seed(
    directory: Path | None,
    messages: int,
    users: int | None,
    bookings: int | None,
    voice_notes: int | None,
    seed: int,
    reset: bool,
) -> None:
    """Create the legacy schema and fill it with a deterministic dataset full of anomalies."""
    from consolidation.seed import SeedOptions, seed_legacy, seed_target

    url, store_root = seed_target(directory)
    options = SeedOptions.scaled(messages, users=users, bookings=bookings, voice_notes=voice_notes, seed=seed)
    events = CliEvents()
    with events.shown():
        report = seed_legacy(url, store_root, options, reset=reset, progress=lambda text: events.say(text))
    summary(
        f"seeded in {report.seconds:.1f} s (seed {seed})",
        {**report.counts, "object files": report.files_written},
    )
    summary("anomalies (rows per class)", report.anomalies)


@app.command("demo")
@DIR
@click.option("--messages", type=click.IntRange(1), help="Seed this many messages (default: a small seed).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config TOML.")
def demo_command(directory: Path | None, messages: int | None, config_path: Path | None) -> None:
    """Start the local stack, seed it, and run every phase in order with --apply, verifying each."""
    from consolidation.core.config import load_config
    from consolidation.demo import run_demo

    verdict = run_demo(directory, load_config(config_path), messages=messages, say=say, show=summary)
    if not verdict.clean:
        raise FindingsError(f"the demo did not end clean: {verdict.problems}", hint="see the tables above")


FORMATS = click.option(
    "--format",
    "formats",
    default="md,html,json,junit,sarif",
    show_default=True,
    help="Reports to write: md,html,json,junit,sarif.",
)
OUT = click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Folder for the reports.")


@app.command("probe")
@FORMATS
@OUT
@click.option("--spec", type=click.Path(path_type=Path), help="Access spec TOML (default: SPEC's).")
@click.option("--label", default="", help="A name for this run in the reports.")
@click.option(
    "--compare", type=click.Path(path_type=Path), help="An earlier probe.json: report what changed."
)
@click.option(
    "--export-pgtap", type=click.Path(path_type=Path), help="Also write the matrix as pgTAP tests here."
)
@CONNECTION
def probe_command(
    formats: str,
    out_dir: Path | None,
    spec: Path | None,
    label: str,
    compare: Path | None,
    export_pgtap: Path | None,
    config_path: Path | None,
    database_url: str | None,
) -> None:
    """Act as every persona on every operation (always rolled back); exit 1 on a leak, break or error."""
    from consolidation.core.config import load_config
    from consolidation.policies import access_check, reports

    done = access_check.probe_and_report(
        database_url,
        load_config(config_path),
        formats=reports.parse_formats(formats),
        out_dir=out_dir,
        spec_path=spec,
        label=label,
        compare_with=compare,
        export_pgtap=export_pgtap,
    )
    summary(
        f"probe ({done.run.duration_ms:.0f} ms)",
        {
            **done.run.counts(),
            **{"written": ", ".join(str(p) for p in done.written) or "no reports (pass --out DIR)"},
        },
    )
    access_check.require_clean(done.run)


@app.command("lint")
@FORMATS
@OUT
@click.option(
    "--fail-on",
    type=click.Choice(["info", "warning", "error"]),
    default="error",
    show_default=True,
    help="Exit 1 at findings of this severity or worse.",
)
@CONNECTION
def lint_command(
    formats: str, out_dir: Path | None, fail_on: str, config_path: Path | None, database_url: str | None
) -> None:
    """Static checks of row level security on the live database."""
    from consolidation.core.config import load_config
    from consolidation.policies import access_check, reports

    report, written = access_check.lint_and_report(
        database_url,
        load_config(config_path),
        formats=reports.parse_formats(formats),
        out_dir=out_dir,
        fail_on=fail_on,
    )
    for finding in report.findings:
        out.print(
            f"{finding.severity}: {finding.rule} {finding.object} — {finding.message}",
            markup=False,
            soft_wrap=True,
        )
    summary("lint", {**report.counts(), "written": ", ".join(str(p) for p in written) or "no reports"})
    access_check.require_lint_clean(report)


@app.command("drift")
@click.option("--source", required=True, help="URL of the database to align with.")
@click.option("--target", required=True, help="URL of the database to compare (and align).")
@click.option("--schema", "schemas", multiple=True, help="Compare this schema (repeatable; default: chat's).")
@click.option("--allow-drops", is_flag=True, help="Also drop or revoke what only the target has.")
@APPLY
@click.option("--out", "sql_out", type=click.Path(path_type=Path), help="Also write the aligning SQL here.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config TOML.")
def drift_command(
    source: str,
    target: str,
    schemas: tuple[str, ...],
    allow_drops: bool,
    apply: bool,
    sql_out: Path | None,
    config_path: Path | None,
) -> None:
    """Compare the chat schema of two databases; print the differences and the SQL aligning the target."""
    from consolidation import drift
    from consolidation.core import db, journal
    from consolidation.core.config import load_config

    config = load_config(config_path)
    scope = drift.scope(config, list(schemas) or None)
    with db.connection(source, autocommit=True) as left, db.connection(target, autocommit=True) as right:
        report = drift.compare_databases(left, right, scope)
        if apply:
            run = journal.start_run(right, config, _command_line())
            drift.align(right, config, run, report, allow_drops=allow_drops, on_retry=CliEvents().retry)
            report = drift.compare_databases(left, right, scope)
    table = Table("kind", "object", "change", "detail", "needs", title=f"drift: {len(report)} differences")
    for found in report.differences:
        table.add_row(
            *(
                escape(part)
                for part in (
                    found.kind,
                    found.name,
                    found.change,
                    found.detail,
                    "--allow-drops" if found.drop else "",
                )
            )
        )
    out.print(table)
    script = report.script(allow_drops=allow_drops, lock_timeout_ms=config.constraints.lock_timeout_ms)
    out.print(script, markup=False, soft_wrap=True)
    if sql_out:
        sql_out.write_text(script, encoding="utf-8")
    if not apply and report.differences:
        say("nothing written: pass --apply to run the aligning SQL on the target")
    drift.require_aligned(report)


_register_phases()


# --- errors: one place, one exit code each ------------------------------------------------------


def main() -> None:
    """Entry point: every typed error becomes its message and its exit code, here only; no
    password or key the process was given is ever printed, even in a bug's traceback."""
    from consolidation.core import db

    debug = "--debug" in sys.argv[1:]
    try:
        app.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail(UsageError("interrupted"))
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE)
    except psycopg.OperationalError as exc:
        _fail(db.unreachable(exc))
    except ConsolidationError as exc:
        _fail(exc)
    except Exception as exc:
        secrets = db.secrets_given(os.environ, sys.argv)
        if debug:
            console.print(db.mask(traceback.format_exc(), secrets), markup=False, soft_wrap=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        console.print(
            db.mask(f"internal error: {type(exc).__name__}: {first}", secrets)
            + ("" if debug else " (re-run with --debug for the traceback; please report it)"),
            markup=False,
            soft_wrap=True,
        )
        sys.exit(ExitCode.INTERNAL)


def _fail(exc: ConsolidationError) -> NoReturn:
    from consolidation.core import db

    message = db.mask(str(exc), db.secrets_given(os.environ, sys.argv))
    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(int(exc.exit_code))
