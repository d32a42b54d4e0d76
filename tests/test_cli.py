"""The CLI's one convention: every writing command previews and writes only with --apply, every hint
the tool prints is a command that parses, and every error has its exit code and a clear message."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import click
import pytest
from conftest import consolidate

from consolidation import cli
from consolidation.core.errors import ExitCode
from consolidation.phases.registry import names
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

ROOT = Path(__file__).resolve().parent.parent
# A hint as the code spells it: `consolidate ...` in backticks, or command("phase", "verb", ...).
BACKTICKED = re.compile(r"`consolidate ([^`]+)`")
COMMAND_CALL = re.compile(r"(?<![.\w])command\(((?:\s*(?:\"[^\"]*\"|'[^']*'|[a-z_.]+)\s*,?)+)\)")


def hints() -> set[str]:
    """Every command line a message, hint or note of the tool's code names."""
    found: set[str] = set()
    for package in ("consolidation", "policies", "storage_migration"):
        for path in (ROOT / package).rglob("*.py"):
            # Adjacent string literals are one string: "`consolidate rollback --phase merge "
            # "--apply`" is one hint.
            text = re.sub(r"\"\s*\n\s*\"", "", path.read_text(encoding="utf-8"))
            for match in BACKTICKED.finditer(text):
                found.add(match.group(1))
            for match in COMMAND_CALL.finditer(text):
                parts = [part.strip() for part in match.group(1).split(",") if part.strip()]
                # A phase held in a variable stands for every phase of the registry.
                for name in names():
                    found.add(" ".join(p.strip("\"'") if p[0] in "\"'" else name for p in parts))
    # Placeholders an operator fills in, and f-string fields filled with a phase's name.
    expanded = set()
    for hint in found:
        for name in names():
            expanded.add(re.sub(r"\{[a-z_.]*name[a-z_.]*\}", name, hint))
    # command()'s own body joins its arguments: not a hint.
    return {hint for hint in expanded if not any(mark in hint for mark in '{<"')}


def parses(argv: list[str]) -> None:
    """Resolve ARGV through the command tree and parse every level's options, running nothing."""
    command: click.Command = cli.app
    parent: click.Context | None = None
    name, args = "consolidate", list(argv)
    while True:
        context = command.make_context(name, args, parent=parent)
        if not isinstance(command, click.Group):
            return
        with warnings.catch_warnings():
            # Click 9 folds protected_args into args; either way they are what follows the group.
            warnings.simplefilter("ignore", DeprecationWarning)
            remaining = [*context.protected_args, *context.args]
        if not remaining:
            return
        verb, *args = remaining
        found = command.get_command(context, verb)
        assert found is not None, f"no command {verb!r} in {argv}"
        command, parent, name = found, context, verb


def test_every_hint_the_tool_prints_is_a_command_that_parses() -> None:
    found = sorted(hints())
    assert len(found) > 20, found
    assert "merge --apply" in found and "rollback --phase merge --apply" in found
    failures = []
    for hint in found:
        try:
            parses(hint.split())
        except (click.ClickException, AssertionError) as exc:
            failures.append(f"{hint}: {exc}")
    assert failures == []


@pytest.mark.parametrize("phase", names())
def test_every_writing_command_previews_unless_given_apply(phase: str) -> None:
    for argv in ([phase], [phase, "apply"], [phase, "rollback"]):
        command: click.Command = cli.app
        context = click.Context(cli.app, info_name="consolidate")
        for name in argv:
            command = command.get_command(context, name)
            context = command.make_context(name, [], parent=context)
        assert "--apply" in {opt for param in command.params for opt in param.opts}, argv
        # Without --apply it is a preview.
        assert context.params["apply"] is False, argv


def test_the_runbook_spellings_still_parse() -> None:
    for argv in ("backup --apply", "merge --apply --batch-size 10", "rollback --phase merge --apply",
                 "storage plan", "storage verify", "policies rollback --apply", "cutover rollback --apply",
                 "plan --sql --format json", "verify --format json"):
        parses(argv.split())


def test_version() -> None:
    done = consolidate(None, "--version")
    assert done.returncode == 0 and re.match(r"consolidate, version \S+", done.stdout), done.stdout


@pytest.mark.parametrize(
    ("config", "says"),
    [
        (b"\xff\xfe[tables]\n", "is not UTF-8"),
        (b"[tables\n", "is not valid TOML"),
        (b'[tables]\nmessages = "nope"\n', "tables.messages = 'nope': public.nope does not exist"),
        (b'[columns.messages]\nsender_id = "author"\n', "columns.messages.sender_id = 'author'"),
        (b'[columns.messages]\ncontent = "metadata"\nmetadata = "content"\n', "expected jsonb or json"),
        (b"[merge]\nbatch_size = 0\n", "merge.batch_size"),
    ],
    ids=["not UTF-8", "not TOML", "unknown table", "unknown column", "wrong type", "bad value"],
)
def test_a_bad_configuration_is_exit_2_naming_the_key_and_writes_nothing(
    small_world: LocalDatabase, tmp_path: Path, config: bytes, says: str
) -> None:
    path = tmp_path / "consolidate.toml"
    path.write_bytes(config)
    done = consolidate(small_world, "merge", "--apply", "--force-order", "--config", str(path))
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert says in " ".join(done.stderr.split()) and "Traceback" not in done.stderr
    with small_world.connect() as conn:
        assert conn.execute("SELECT to_regnamespace('consolidation') IS NULL").fetchone() == (True,)


def test_a_database_without_the_legacy_tables_is_a_configuration_error(empty_db: LocalDatabase) -> None:
    done = consolidate(empty_db, "backup")
    assert done.returncode == ExitCode.USAGE, done.stderr
    message = " ".join(done.stderr.split())
    assert "tables.messages = 'messages': public.messages does not exist" in message
    assert "is this the right database?" in message


def test_a_wrong_password_says_so(empty_db: LocalDatabase) -> None:
    url = re.sub(r"://([^:]+):[^@]+@", r"://\1:not-the-password@", empty_db.url)
    done = consolidate(empty_db, "plan", "--database-url", url)
    assert done.returncode == ExitCode.UNREACHABLE
    assert "refused the login" in done.stderr and "check the user and password" in done.stderr
    assert "not-the-password" not in done.stderr


def test_an_internal_error_is_exit_4_in_one_line_and_the_traceback_only_with_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("an unexpected state\nsecond line")

    monkeypatch.setattr(cli.app, "main", broken)
    for argv, traceback in ((["consolidate", "plan"], False), (["consolidate", "--debug", "plan"], True)):
        monkeypatch.setattr("sys.argv", argv)
        with pytest.raises(SystemExit) as exited:
            cli.main()
        assert exited.value.code == ExitCode.INTERNAL
        err = capsys.readouterr().err
        assert "internal error: RuntimeError: an unexpected state" in err
        assert ("Traceback" in err) is traceback and "second line" not in err.splitlines()[-1]


def test_a_verify_before_anything_was_applied_says_what_to_run(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    done = consolidate(empty_db, "verify")
    assert done.returncode == ExitCode.USAGE
    assert "merge has not run" in done.stderr and "`consolidate merge --apply`" in done.stderr
