"""The `consolidate` command: a thin skin over the library, one verb per command."""

from __future__ import annotations

import os
import shlex
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import psycopg
import typer
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from consolidation.core.errors import ConsolidationError, ExitCode
from consolidation.stack import Stack, StackStatus

console = Console(stderr=True)
out = Console()

app = typer.Typer(
    help="Consolidate a Supabase chat app's messaging systems, and prove the result.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
stack_app = typer.Typer(help="The local Supabase stack (PostgreSQL + file store).", no_args_is_help=True)
app.add_typer(stack_app, name="stack")

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Stack folder (default: $CONSOLIDATION_STACK_DIR or .consolidate/stack)."),
]


def _print_status(status: StackStatus) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("folder", str(status.directory))
    table.add_row("running", "yes" if status.running else "no")
    if status.port:
        table.add_row("port", str(status.port))
    if status.server_version:
        table.add_row("server", f"PostgreSQL {status.server_version} (pid {status.pid})")
    if status.pg_bin:
        table.add_row("binaries", status.pg_bin)
    out.print(table)


@stack_app.command("up")
def stack_up(
    directory: DirOption = None,
    port: Annotated[int | None, typer.Option(help="TCP port on 127.0.0.1.")] = None,
    pg_bin: Annotated[
        Path | None, typer.Option("--pg-bin", help="Use an installed PostgreSQL's bin folder.")
    ] = None,
    durable: Annotated[
        bool, typer.Option(help="Keep fsync on (slower; the default stack is disposable).")
    ] = False,
) -> None:
    """Start the local stack (reusing the one in DIR if there is one)."""
    _print_status(Stack(directory).up(port=port, pg_bin=pg_bin, durable=durable))


@stack_app.command("down")
def stack_down(directory: DirOption = None) -> None:
    """Stop the local stack's server (its data stays)."""
    _print_status(Stack(directory).down())


@stack_app.command("status")
def stack_status(directory: DirOption = None) -> None:
    """Show whether the local stack runs, and where."""
    status = Stack(directory).status()
    _print_status(status)
    if not status.running:
        raise typer.Exit(ExitCode.UNREACHABLE)


@stack_app.command("env")
def stack_env(directory: DirOption = None) -> None:
    """Print `export NAME=value` lines for every other command: eval "$(consolidate stack env)"."""
    for name, value in Stack(directory).environment().items():
        print(f"export {name}={shlex.quote(value)}")


# --- stack seed: the synthetic legacy dataset ---------------------------------------------------

SizeOption = Annotated[int | None, typer.Option(min=0, help="Default: in proportion to --messages.")]


@stack_app.command("seed")
def stack_seed(
    directory: DirOption = None,
    messages: Annotated[int, typer.Option(min=0, help="Legacy messages.")] = 100_000,
    users: SizeOption = None,
    bookings: SizeOption = None,
    voice_notes: SizeOption = None,
    seed: Annotated[int, typer.Option(help="The same seed gives the same bytes.")] = 1,
    reset: Annotated[
        bool, typer.Option("--reset", help="First drop a previous seed (tables, users, objects, journal).")
    ] = False,
) -> None:
    """Create the legacy schema and fill it with a deterministic dataset full of anomalies."""
    from consolidation.seed import SeedOptions, seed_legacy, seed_target

    url, store_root = seed_target(directory)
    options = SeedOptions.scaled(
        messages, users=users, bookings=bookings, voice_notes=voice_notes, seed=seed
    )
    with console.status("seeding") as status:
        report = seed_legacy(url, store_root, options, reset=reset, progress=status.update)
    for title, rows in (
        (f"seeded in {report.seconds:.1f} s (seed {seed})",
         {**report.counts, "object files": report.files_written}),
        ("anomalies (rows per class)", report.anomalies),
    ):
        table = Table("", "rows", title=title, title_justify="left")
        for name, count in rows.items():
            table.add_row(name, f"{count:,}")
        out.print(table)


# --- phases: plan, backup, merge, verify, rollback, demo --------------------------------------

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config TOML (default: the SPEC mapping).")
]
UrlOption = Annotated[
    str | None, typer.Option("--database-url", help="Database URL (default: $DATABASE_URL).")
]
ApplyOption = Annotated[
    bool, typer.Option("--apply", help="Write to the database (otherwise: preview only).")
]
ForceOrderOption = Annotated[
    bool, typer.Option("--force-order", help="Run even if the phase it depends on has not run.")
]
BatchSizeOption = Annotated[
    int | None, typer.Option("--batch-size", min=1, help="Source rows per transaction.")
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1, max=16, help="Connections merging side by side (default: merge.workers)."
    ),
]
PauseRatioOption = Annotated[
    float | None,
    typer.Option(
        "--pause-ratio",
        min=0,
        max=100,
        help="After each batch, pause this many times as long as it took: gentler on a live app "
        "(default: merge.pause_ratio).",
    ),
]


def _summary(title: str, rows: dict) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    for key, value in rows.items():
        table.add_row(rich_escape(str(key)), rich_escape(str(value)))
    out.print(table)


def _preview(steps: list, heading: str) -> None:
    from rich.syntax import Syntax

    out.print(f"[bold]{rich_escape(heading)}[/] (dry run: pass --apply to run it)")
    for step in steps:
        out.print(f"[dim]-- {rich_escape(step.phase)} / {rich_escape(step.name)}[/]")
        out.print(Syntax(step.sql.strip(), "sql", word_wrap=True))


def _open(config_path: Path | None, database_url: str | None):  # noqa: ANN202 - (config, connection)
    from consolidation.core import db
    from consolidation.core.config import load_config

    config = load_config(config_path)
    return config, db.connect(database_url, autocommit=True)


@app.command("plan")
def plan_command(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write each statement as a .sql file here.")
    ] = None,
    show_sql: Annotated[bool, typer.Option("--sql/--no-sql", help="Print every statement.")] = True,
    out_format: Annotated[
        str, typer.Option("--format", help="sql: a file per statement; supabase: Supabase CLI migrations.")
    ] = "sql",
    config_path: ConfigOption = None,
    database_url: UrlOption = None,
) -> None:
    """Show what every phase would do here: counts and the exact SQL. Writes nothing to the database."""
    from consolidation import migration_files
    from consolidation.core.errors import UsageError
    from consolidation.phases import plan

    if out_format not in ("sql", "supabase"):
        raise UsageError(f"unknown --format {out_format!r}", hint="choose sql or supabase")
    config, conn = _open(config_path, database_url)
    with conn:
        built = plan.build(conn, config)
        if out_dir and out_format == "supabase":
            written = migration_files.write(conn, config, out_dir, review=built)
            out.print(f"wrote {len(written)} files under {out_dir / 'supabase'}")
    for phase, counts in built.counts.items():
        _summary(f"{phase}: would touch", counts)
    for note in built.notes:
        out.print(f"note: {rich_escape(note)}")
    if show_sql:
        _preview(built.steps, "statements, in run order")
    if out_dir and out_format == "sql":
        written = built.write(out_dir)
        out.print(f"wrote {len(written)} files to {out_dir}")


@app.command("backup")
def backup_command(
    apply: ApplyOption = False, config_path: ConfigOption = None, database_url: UrlOption = None
) -> None:
    """Copy the chat tables into a timestamped backup schema, with a verified manifest."""
    from consolidation.core import journal
    from consolidation.phases import backup

    config, conn = _open(config_path, database_url)
    with conn:
        if not apply:
            _preview(
                backup.statements(config, backup.schema_name(), backup.unfinished(conn, config)),
                "backup would run",
            )
            return
        done = backup.apply(conn, config, journal.start_run(conn, config, "backup --apply"))
    _summary(
        f"backup {done.schema} (verified: {done.verified})", {k: v["rows"] for k, v in done.tables.items()}
    )


@app.command("merge")
def merge_command(
    apply: ApplyOption = False,
    batch_size: BatchSizeOption = None,
    workers: WorkersOption = None,
    pause_ratio: PauseRatioOption = None,
    force_order: ForceOrderOption = False,
    config_path: ConfigOption = None,
    database_url: UrlOption = None,
) -> None:
    """Merge messages and voice notes into chat_messages: each row migrated, linked, quarantined, excluded."""
    from rich.progress import Progress

    from consolidation.core import journal
    from consolidation.phases import merge

    config, conn = _open(config_path, database_url)
    with conn:
        if not apply:
            _preview(
                merge.statements(config), "merge would run (per batch: select, classify, then the steps)"
            )
            return
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("merging", total=merge.remaining(conn, config) or None)
            done = merge.apply(
                conn,
                config,
                journal.start_run(conn, config, "merge --apply"),
                batch_size=batch_size,
                workers=workers,
                pause_ratio=pause_ratio,
                force_order=force_order,
                on_progress=lambda _source, rows: progress.advance(task, rows),
            )
    _summary(
        f"merge: this run ({done.batches} batches, {done.workers} workers"
        + (f", paused {done.paused_seconds:.1f}s)" if done.paused_seconds else ")"),
        dict(sorted(done.run_counts.items())) or {"new rows": 0},
    )
    _summary("merge: every fate so far", done.totals)


@app.command("verify")
def verify_command(config_path: ConfigOption = None, database_url: UrlOption = None) -> None:
    """Prove the merge row by row; exit 1 listing the discrepancies, 0 when clean."""
    from consolidation.core.errors import FindingsError
    from consolidation.phases import verify

    config, conn = _open(config_path, database_url)
    with conn:
        report = verify.run(conn, config)
    _summary("verify: findings per check", report.counts)
    if report.totals:
        _summary("verify: fates", report.totals)
    if not report.clean:
        table = Table("check", "table", "row", "discrepancy", title="discrepancies (first of each check)")
        for finding in report.findings:
            table.add_row(
                *(rich_escape(part) for part in (finding.check, finding.table, finding.key, finding.detail))
            )
        out.print(table)
        raise FindingsError(
            f"verification found {sum(report.counts.values())} discrepancies",
            hint="see the table above; quarantined rows are not discrepancies, these are",
        )


class RollbackPhase(StrEnum):
    merge = "merge"
    backup = "backup"


@app.command("rollback")
def rollback_command(
    phase: Annotated[RollbackPhase, typer.Option("--phase", help="The phase to undo.")],
    apply: ApplyOption = False,
    force_order: ForceOrderOption = False,
    config_path: ConfigOption = None,
    database_url: UrlOption = None,
) -> None:
    """Undo one phase exactly: only what it created, and prove the pre-phase checksums are back."""
    from dataclasses import asdict

    from consolidation.core import journal
    from consolidation.phases import backup, merge, rollback

    config, conn = _open(config_path, database_url)
    with conn:
        if not apply:
            steps = (
                merge.rollback_statements(config) if phase == "merge" else backup.rollback_plan(conn, config)
            )
            _preview(steps, f"rollback of {phase} would run")
            return
        run = journal.start_run(conn, config, f"rollback --phase {phase} --apply")
        done = rollback.rollback(conn, config, run, phase, force_order=force_order)
    if isinstance(done, str):
        _summary("rollback backup", {"dropped schema": done})
    else:
        rows = {
            k: v
            for k, v in asdict(done).items()
            if k in ("messages_deleted", "sessions_restored", "sessions_deleted")
        }
        _summary("rollback merge (pre-merge checksums restored)", rows)


@app.command("demo")
def demo_command(
    directory: DirOption = None,
    messages: Annotated[int | None, typer.Option("--messages", help="Seed this many messages.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Start the local stack, seed it, and run plan -> backup -> merge -> verify with --apply."""
    from consolidation.core.config import load_config
    from consolidation.core.errors import FindingsError
    from consolidation.demo import run_demo

    steps = run_demo(
        directory,
        load_config(config_path),
        messages=messages,
        on_step=lambda step: _summary(step.name, step.summary),
    )
    if not all(step.summary.get("clean", True) for step in steps):
        raise FindingsError("the demo's verification found discrepancies", hint="run `consolidate verify`")


# --- storage: plan, apply, verify, rollback of the file move (issue 4) -------------------------

storage_app = typer.Typer(
    help="Move chat files into chat-files/<session>/<sender>/ and rewrite every reference.",
    no_args_is_help=True,
)
app.add_typer(storage_app, name="storage")


def _storage_findings(report) -> None:  # noqa: ANN001 - storage_migration.transfer.StorageReport
    _summary("storage verify", {"references checked": report.checked, **report.notes,
                                "findings": len(report.findings)})
    if report.findings:
        table = Table("check", "reference", "discrepancy", title="storage discrepancies")
        for finding in report.findings[:200]:
            table.add_row(*(rich_escape(part) for part in (finding.check, finding.where, finding.detail)))
        out.print(table)


@storage_app.command("plan")
def storage_plan_command(config_path: ConfigOption = None, database_url: UrlOption = None) -> None:
    """Show what the move would do: copies, rewrites, missing and foreign references. Writes nothing."""
    from consolidation.core import db
    from consolidation.phases import storage

    config, conn = _open(config_path, database_url)
    with conn, storage.open_backend(db.database_url(database_url)) as backend:
        built = storage.plan(conn, config, backend)
    _summary("storage: would touch", built.counts)
    table = Table("from", "to", title="copies to make (first 50)")
    for item in built.new_transfers[:50]:
        table.add_row(rich_escape(f"{item.source_bucket}/{item.source_name}"),
                      rich_escape(f"{item.dest_bucket}/{item.dest_name}"))
    out.print(table)
    for found in [*built.missing, *built.foreign][:50]:
        out.print(f"left alone: {rich_escape(found.site.raw)} ({rich_escape(found.reason)})")


@storage_app.command("apply")
def storage_apply_command(
    force_order: ForceOrderOption = False, config_path: ConfigOption = None, database_url: UrlOption = None
) -> None:
    """Copy, verify, rewrite, then delete verified sources; re-run to resume after a crash."""
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn

    from consolidation.core import db, journal
    from consolidation.phases import storage

    config, conn = _open(config_path, database_url)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), DownloadColumn())
    with conn, storage.open_backend(db.database_url(database_url)) as backend, Progress(
        *columns, console=console, transient=True
    ) as progress:
        files = progress.add_task("files", total=None)
        data = progress.add_task("bytes", total=None)
        done = storage.apply(
            conn, config, journal.start_run(conn, config, "storage apply"), backend,
            force_order=force_order,
            on_total=lambda count, size: (progress.update(files, total=count),
                                          progress.update(data, total=size)),
            on_progress=lambda count, size: (progress.advance(files, count), progress.advance(data, size)),
        )
    _summary("storage apply", done.counts)


@storage_app.command("verify")
def storage_verify_command(config_path: ConfigOption = None, database_url: UrlOption = None) -> None:
    """Check every chat reference resolves to a chat-files object of the inventoried hash (exit 1 if not)."""
    from consolidation.core import db
    from consolidation.phases import storage

    config, conn = _open(config_path, database_url)
    with conn, storage.open_backend(db.database_url(database_url)) as backend:
        report = storage.verify(conn, config, backend)
    _storage_findings(report)
    storage.require_clean(report)


@storage_app.command("rollback")
def storage_rollback_command(config_path: ConfigOption = None, database_url: UrlOption = None) -> None:
    """Put the objects back, restore every reference from the journal, remove the copies."""
    from consolidation.core import db, journal
    from consolidation.phases import storage

    config, conn = _open(config_path, database_url)
    with conn, storage.open_backend(db.database_url(database_url)) as backend:
        counts = storage.rollback(conn, config, journal.start_run(conn, config, "storage rollback"), backend)
    _summary("storage rollback", counts)


# --- policies, probe, lint: the access policy and its proof (issue 5) ---------------------------

policies_app = typer.Typer(help="The access policy: plan, apply, roll back.", no_args_is_help=True)
app.add_typer(policies_app, name="policies")
LegacyOption = Annotated[
    bool, typer.Option("--include-legacy", help="Also cut over the legacy tables (service_role only).")
]
FormatOption = Annotated[str, typer.Option("--format", help="Reports to write: md,html,json,junit,sarif.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Folder for the reports (default: none).")]


@policies_app.command("plan")
def policies_plan_command(
    include_legacy: LegacyOption = False, config_path: ConfigOption = None, database_url: UrlOption = None
) -> None:
    """Show the policies apply would drop and the exact SQL it would run."""
    from consolidation.phases import policies as install

    config, conn = _open(config_path, database_url)
    with conn:
        planned = install.plan(conn, config, include_legacy=include_legacy)
    _preview(planned.steps, f"policies apply would drop {len(planned.drops)} and run")


@policies_app.command("apply")
def policies_apply_command(
    include_legacy: LegacyOption = False, config_path: ConfigOption = None, database_url: UrlOption = None
) -> None:
    """Install the access policy in one transaction, journaled with the policies it replaces."""
    from consolidation.core import journal
    from consolidation.phases import policies as install

    config, conn = _open(config_path, database_url)
    with conn:
        done = install.apply(conn, config, journal.start_run(conn, config, "policies apply"),
                             include_legacy=include_legacy)
    _summary("policies apply", {
        "journal record": done.record_id, "policies dropped": done.dropped,
        "policies created": done.created, "indexes created": len(done.indexes_created),
    })


@policies_app.command("rollback")
def policies_rollback_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the statements.")] = False,
    config_path: ConfigOption = None,
    database_url: UrlOption = None,
) -> None:
    """Restore exactly the policies, privileges and RLS flags the newest apply replaced."""
    from consolidation.core import journal
    from consolidation.phases import policies as install

    config, conn = _open(config_path, database_url)
    with conn:
        if dry_run:
            _preview(install.rollback_plan(conn, config), "policies rollback would run")
            return
        record = install.rollback(conn, config, journal.start_run(conn, config, "policies rollback"))
    _summary("policies rollback", {"restored the state before journal record": record})


@app.command("probe")
def probe_command(
    formats: FormatOption = "md,html,json,junit,sarif",
    out_dir: OutOption = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="Access spec TOML (default: SPEC's).")] = None,
    label: Annotated[str, typer.Option("--label", help="A name for this run in the reports.")] = "",
    compare: Annotated[
        Path | None, typer.Option("--compare", help="An earlier probe.json: report what changed.")
    ] = None,
    export_pgtap: Annotated[
        Path | None, typer.Option("--export-pgtap", help="Also write the matrix as pgTAP tests to this file.")
    ] = None,
    config_path: ConfigOption = None,
    database_url: UrlOption = None,
) -> None:
    """Act as every persona on every operation (always rolled back); exit 1 on a leak, break or error."""
    from consolidation.core.config import load_config
    from policies import access_check, reports

    done = access_check.probe_and_report(
        database_url, load_config(config_path), formats=reports.parse_formats(formats), out_dir=out_dir,
        spec_path=spec, label=label, compare_with=compare, export_pgtap=export_pgtap,
    )
    _summary(f"probe ({done.run.duration_ms:.0f} ms)", {**done.run.counts(), **{
        "written": ", ".join(str(p) for p in done.written) or "no reports (pass --out DIR)"}})
    access_check.require_clean(done.run)


@app.command("lint")
def lint_command(
    formats: FormatOption = "md,html,json,junit,sarif",
    out_dir: OutOption = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 at: info, warning, error.")] = "error",
    config_path: ConfigOption = None,
    database_url: UrlOption = None,
) -> None:
    """Static checks of row level security on the live database."""
    from consolidation.core.config import load_config
    from policies import access_check, reports

    report, written = access_check.lint_and_report(
        database_url, load_config(config_path), formats=reports.parse_formats(formats), out_dir=out_dir,
        fail_on=fail_on,
    )
    for finding in report.findings:
        out.print(
            f"{rich_escape(finding.severity)}: {rich_escape(finding.rule)} "
            f"{rich_escape(finding.object)} — {rich_escape(finding.message)}",
            highlight=False,
        )
    _summary("lint", {**report.counts(), "written": ", ".join(str(p) for p in written) or "no reports"})
    access_check.require_lint_clean(report)


# --- constraints, drift (issue 6) ---------------------------------------------------------------

constraints_app = typer.Typer(
    help="Foreign keys, NOT NULL and indexes on chat_messages, without long locks.", no_args_is_help=True
)
app.add_typer(constraints_app, name="constraints")


def _retry_line(event) -> None:  # noqa: ANN001 - consolidation.phases.constraints.LockRetry
    console.print(
        f"retry: {rich_escape(event.step)} (attempt {event.attempt}): {rich_escape(event.error)}",
        highlight=False,
    )


@constraints_app.command("plan")
def constraints_plan_command(config_path: ConfigOption = None, database_url: UrlOption = None) -> None:
    """Show each constraint's state, the rows that would violate it, and the SQL apply would run."""
    from consolidation.phases import constraints

    config, conn = _open(config_path, database_url)
    with conn:
        planned = constraints.plan(conn, config)
    table = Table("requirement", "state", "violating rows", "sample", "steps", title="constraints")
    for row in constraints.summary(planned):
        table.add_row(*(rich_escape(str(value)) for value in row.values()))
    out.print(table)
    for note in planned.notes:
        out.print(f"note: {rich_escape(note)}")
    _preview(planned.steps, "constraints apply would run")


@constraints_app.command("apply")
def constraints_apply_command(
    force_order: ForceOrderOption = False, config_path: ConfigOption = None, database_url: UrlOption = None
) -> None:
    """Add what is missing, every lock bounded and retried; refuses (exit 1) while rows violate."""
    from consolidation.core import journal
    from consolidation.phases import constraints

    config, conn = _open(config_path, database_url)
    with conn:
        run = journal.start_run(conn, config, "constraints apply")
        done = constraints.apply(conn, config, run, force_order=force_order, on_retry=_retry_line)
    _summary("constraints apply", {"journal record": done.record_id, "steps run": len(done.steps),
                                   "lock retries": len(done.retries)})


@constraints_app.command("verify")
def constraints_verify_command(config_path: ConfigOption = None, database_url: UrlOption = None) -> None:
    """Check every foreign key, NOT NULL and index is in force and valid (exit 1 if not)."""
    from consolidation.core.errors import FindingsError
    from consolidation.phases import constraints

    config, conn = _open(config_path, database_url)
    with conn:
        missing = constraints.verify(conn, config)
    for finding in missing:
        out.print(f"not in force: {rich_escape(finding)}")
    if missing:
        raise FindingsError(f"{len(missing)} not in force", hint="run `consolidate constraints apply`")
    _summary("constraints verify", {"in force": len(constraints.requirements(config))})


@constraints_app.command("rollback")
def constraints_rollback_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the statements.")] = False,
    force_order: ForceOrderOption = False,
    config_path: ConfigOption = None,
    database_url: UrlOption = None,
) -> None:
    """Remove exactly what apply added and prove the pre-phase state is back."""
    from consolidation.core import journal
    from consolidation.phases import constraints

    config, conn = _open(config_path, database_url)
    with conn:
        if dry_run:
            _preview(constraints.rollback_plan(conn, config), "constraints rollback would run")
            return
        run = journal.start_run(conn, config, "constraints rollback")
        steps = constraints.rollback(conn, config, run, force_order=force_order, on_retry=_retry_line)
    _summary("constraints rollback (pre-phase state restored)", {"steps run": len(steps)})


@app.command("drift")
def drift_command(
    source: Annotated[str, typer.Option("--source", help="URL of the database to align with.")],
    target: Annotated[str, typer.Option("--target", help="URL of the database to compare (and align).")],
    schemas: Annotated[
        list[str] | None, typer.Option("--schema", help="Compare this schema (repeatable; default: chat's).")
    ] = None,
    allow_drops: Annotated[
        bool, typer.Option("--allow-drops", help="Also drop or revoke what only the target has.")
    ] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Run the aligning SQL on the target.")] = False,
    sql_out: Annotated[Path | None, typer.Option("--out", help="Also write the aligning SQL here.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Compare the chat schema of two databases; print the differences and the SQL aligning the target."""
    from rich.syntax import Syntax

    from consolidation import drift
    from consolidation.core import db, journal
    from consolidation.core.config import load_config

    config = load_config(config_path)
    scope = drift.scope(config, schemas)
    with db.connection(source, autocommit=True) as left, db.connection(target, autocommit=True) as right:
        report = drift.compare_databases(left, right, scope)
        if apply:
            run = journal.start_run(right, config, "drift --apply")
            drift.align(right, config, run, report, allow_drops=allow_drops, on_retry=_retry_line)
            report = drift.compare_databases(left, right, scope)
    table = Table("kind", "object", "change", "detail", "needs", title=f"drift: {len(report)} differences")
    for found in report.differences:
        table.add_row(*(rich_escape(part) for part in (found.kind, found.name, found.change, found.detail,
                                                        "--allow-drops" if found.drop else "")))
    out.print(table)
    script = report.script(allow_drops=allow_drops, lock_timeout_ms=config.constraints.lock_timeout_ms)
    out.print(Syntax(script, "sql", word_wrap=True))
    if sql_out:
        sql_out.write_text(script, encoding="utf-8")
    drift.require_aligned(report)


# --- cutover: close the legacy path (issue 7) -----------------------------------------------------

cutover_app = typer.Typer(help="Cut-over: close the legacy tables, forward the last changes, verify.",
                          no_args_is_help=True)
app.add_typer(cutover_app, name="cutover")


def _app_changes(changes: list[str]) -> None:
    console.print("[bold]The app must change:[/]")
    for change in changes:
        console.print(f"  - {rich_escape(change)}")


@cutover_app.command("plan")
def cutover_plan_command(config_path: ConfigOption = None, database_url: UrlOption = None) -> None:
    """Show the capture state, the exact SQL cut-over runs, and what the app must change."""
    from consolidation.phases import cutover

    config, conn = _open(config_path, database_url)
    with conn:
        planned = cutover.plan(conn, config)
    _summary("capture", {
        "trigger on messages": planned.capture.messages,
        "trigger on voice_notes": planned.capture.voice_notes,
        "changes waiting to be forwarded": planned.capture.pending, "changes logged": planned.capture.logged,
    })
    _preview(planned.steps, "cutover apply would run (and forward the captured changes after each step)")
    _app_changes(planned.app_changes)


@cutover_app.command("apply")
def cutover_apply_command(
    force_order: ForceOrderOption = False, config_path: ConfigOption = None, database_url: UrlOption = None
) -> None:
    """Close the legacy tables to the API roles, forward every captured change, stop capture, verify."""
    from consolidation.core import journal
    from consolidation.phases import cutover

    config, conn = _open(config_path, database_url)
    with conn:
        done = cutover.apply(conn, config, journal.start_run(conn, config, "cutover apply"),
                             force_order=force_order)
    _summary("cutover apply", {**done.forwarded, "lock attempts": done.attempts, "verify": "clean"})
    _app_changes(cutover.app_changes(config))


@cutover_app.command("rollback")
def cutover_rollback_command(config_path: ConfigOption = None, database_url: UrlOption = None) -> None:
    """Re-open the legacy path: privileges and row security as before the cut-over, capture back on."""
    from consolidation.core import journal
    from consolidation.phases import cutover

    config, conn = _open(config_path, database_url)
    with conn:
        count = cutover.rollback(conn, config, journal.start_run(conn, config, "cutover rollback"))
    _summary("cutover rollback", {"statements run": count, "capture": "on"})


def main() -> None:
    """Entry point: every typed error becomes its message and its exit code, here only; no
    password or key the process was given is ever printed, even in a bug's traceback."""
    from consolidation.core import db

    try:
        app()
    except psycopg.OperationalError as exc:
        _fail(db.unreachable(exc))
    except ConsolidationError as exc:
        _fail(exc)
    except Exception:
        secrets = db.secrets_given(os.environ, sys.argv)
        console.print(db.mask(traceback.format_exc(), secrets), markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)


def _fail(exc: ConsolidationError) -> NoReturn:
    from consolidation.core import db

    message = db.mask(str(exc), db.secrets_given(os.environ, sys.argv))
    console.print(f"[bold red]error:[/] {rich_escape(message)}")
    sys.exit(int(exc.exit_code))
