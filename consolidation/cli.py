"""The `consolidate` command: a thin skin over the library, one verb per command."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from consolidation.errors import ConsolidationError, ExitCode
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


def main() -> None:
    """Entry point: every typed error becomes its message and its exit code, here only."""
    try:
        app()
    except ConsolidationError as exc:
        console.print(f"[bold red]error:[/] {rich_escape(str(exc))}")
        sys.exit(int(exc.exit_code))
    except psycopg.OperationalError as exc:
        console.print(
            f"[bold red]error:[/] lost the database: {rich_escape(str(exc).strip())}\n"
            "  next: check the server, then re-run the same command; applied work resumes"
        )
        sys.exit(int(ExitCode.UNREACHABLE))
