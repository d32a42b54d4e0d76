"""The schema phases' SQL as Supabase CLI migration files, each with a matching rollback file.

Layout, under the folder given (a project root):
- supabase/migrations/<version>_consolidate_<phase>_<nn>_<step>.sql: what `supabase db push`
  (or `migration up`) applies, in order. Each file is one transaction for the CLI, so what
  must not share one gets its own file: a CREATE INDEX CONCURRENTLY (the CLI runs it outside
  the transaction), and the VALIDATE of a constraint added NOT VALID.
- supabase/rollbacks/<same name>.sql: the file that undoes it, run by hand (psql -f) newest
  first. The CLI only reads files directly in supabase/migrations, so it never applies these.
- supabase/consolidation/: the data phases' statements (backup, merge, verify), for review
  only. They are not migrations: a migration replays on every `supabase db reset` and every
  new environment, while these move production's data once, journaled and resumable, through
  `consolidate`.

Versions are deterministic: a fixed base, or just after the newest migration of the project's
own already in the folder, plus one second per file in phase order; the same database, config
and folder give the same files, byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.phases import constraints
from consolidation.phases import policies as install
from consolidation.phases.contract import Step, write_steps

MIGRATIONS = Path("supabase/migrations")
ROLLBACKS = Path("supabase/rollbacks")
REVIEW = Path("supabase/consolidation")
NAME_PREFIX = "consolidate_"
BASE_VERSION = "20250101000000"
VERSION_FORMAT = "%Y%m%d%H%M%S"
_VERSION = re.compile(r"^([0-9]{14})_(.*)\.sql$")
_CONCURRENT_INDEX = re.compile(r"^(CREATE (UNIQUE )?INDEX CONCURRENTLY)", re.MULTILINE)
_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_CREATE_POLICY = re.compile(rf"CREATE POLICY\s+({_IDENT})\s+ON\s+({_IDENT})\.({_IDENT})")
# The policies' rollback (their restore steps) removes the helper objects their migration created.
ROLLBACK_IGNORES = {
    "DROP FUNCTION": "ban-drop-function",
    "DROP SCHEMA": "ban-drop-schema",
}
CONCURRENTLY_NOTE = (
    "-- The Supabase CLI runs CREATE INDEX CONCURRENTLY outside the file's transaction; alone in\n"
    "-- its file, as here, it never shares one on any CLI version.\n"
    "-- squawk-ignore ban-concurrent-index-creation-in-transaction\n"
)


@dataclass(frozen=True)
class Migration:
    """One migration: its name (without version), what it does, its SQL and its rollback's."""

    phase: str
    name: str
    purpose: str
    up: tuple[str, ...]
    down: tuple[str, ...]


def _constraints(conn: psycopg.Connection, config: Config) -> list[Migration]:
    """The constraints phase in four kinds of file: an index each, every NOT VALID addition,
    every validation, then SET NOT NULL. Each file can be run again: constraints are dropped if
    a previous run left them, then added again NOT VALID (and validated by the next file)."""
    found = constraints.inspect(conn, config)
    chosen = constraints.requirements(config)
    out: list[Migration] = []
    for r in chosen:
        if r.kind != "index":
            continue
        ours_now = found[r.key].name == r.name
        if found[r.key].state == "invalid":
            # Plain SQL cannot tell an invalid index from a valid one; this one was seen invalid.
            drop = constraints.steps_for(r, found[r.key])[0].sql
            out.append(
                Migration("constraints", f"drop_invalid_{r.name}", f"drop the invalid {r.name}", (drop,), ())
            )
        undo = () if ours_now else (constraints.rollback_index_sql(r),)
        out.append(Migration("constraints", f"index_{r.name}", r.description, (r.create_sql,), undo))
    keys = [r for r in chosen if r.kind == "foreign_key"]
    nulls = [r for r in chosen if r.kind == "not_null"]
    add, validate, set_not_null = [], [], []
    added_down, set_down = [], []
    for r in [*keys, *nulls]:
        first, *rest = constraints.steps_for(r, constraints.Found("absent"))
        add += [constraints.drop_before_add_sql(r), first.sql]
        validate.append(rest[0].sql)
        if r.kind == "not_null":
            set_not_null.append(rest[1].sql)
            added_down.append(constraints.rollback_constraint_sql(r))
            if found[r.key].state != "valid":
                set_down.append(constraints.rollback_not_null_sql(r))
        elif found[r.key].state == "absent" or found[r.key].name != r.name:
            added_down.append(constraints.rollback_constraint_sql(r))
    return [
        *out,
        Migration(
            "constraints",
            "add_not_valid",
            "foreign keys and NOT NULL checks, NOT VALID",
            tuple(add),
            tuple(added_down),
        ),
        Migration(
            "constraints", "validate", "validate them (no reads or writes blocked)", tuple(validate), ()
        ),
        Migration(
            "constraints",
            "set_not_null",
            "SET NOT NULL on the validated checks",
            tuple(set_not_null),
            tuple(set_down),
        ),
    ]


def _installed_policies(statements: list[str]) -> list[dict[str, object]]:
    """The policies these statements create, as rollback's restore needs them (name and table)."""

    def unquote(part: str) -> str:
        return part[1:-1].replace('""', '"') if part.startswith('"') else part

    return [
        {
            "schema": unquote(schema),
            "table": unquote(table),
            "name": unquote(name),
            "permissive": "PERMISSIVE",
            "roles": [],
            "cmd": "ALL",
            "qual": None,
            "with_check": None,
        }
        for text in statements
        for name, schema, table in _CREATE_POLICY.findall(text)
    ]


def _policies(conn: psycopg.Connection, config: Config, already: set[str]) -> list[Migration]:
    """The policies phase: its indexes (unless the constraints files build them already), then
    the policies in one file; the rollback restores the policies, privileges and RLS flags the
    database has now (pg_policies and the catalogs), as `policies rollback` would."""
    planned = install.plan(conn, config)
    # The same snapshot policies apply journals; the indexes belong to the constraints files.
    snapshot = install.snapshot(conn, config, False, interim_legacy=True)
    snapshot["indexes"] = [
        *snapshot["indexes"],
        *(
            sqlfiles.quote(sql.Identifier(config.tables.schema_, name))
            for _, name in install.INDEXES.values()
        ),
    ]
    inside = [s.sql for s in planned.steps if s.transactional]
    undo = install.restore_steps(
        snapshot, _installed_policies(inside), [p.__dict__ for p in planned.drops], config
    )
    out = [
        Migration("policies", f"index_{n}", "an index the policies need", (s.sql,), ())
        for n, s in enumerate((s for s in planned.steps if not s.transactional), start=1)
        if s.sql not in already
    ]
    out.append(
        Migration(
            "policies",
            "apply",
            f"drop {len(planned.drops)} policies, install the access policy",
            tuple(inside),
            tuple(s.sql for s in undo if s.transactional),
        )
    )
    return out


def migrations(conn: psycopg.Connection, config: Config) -> list[Migration]:
    """Every schema phase's migrations, in the order they apply. Writes nothing to the database."""
    built = _constraints(conn, config)
    already = {statement for migration in built for statement in migration.up}
    return [*built, *_policies(conn, config, already)]


def base_version(directory: Path) -> datetime:
    """The first version to use: the fixed base, or the minute after the newest migration in
    DIRECTORY's supabase/migrations that is not ours (so ours apply after the project's own)."""
    base = datetime.strptime(BASE_VERSION, VERSION_FORMAT)
    folder = directory / MIGRATIONS
    for path in folder.glob("*.sql") if folder.is_dir() else []:
        match = _VERSION.match(path.name)
        if match and not match.group(2).startswith(NAME_PREFIX):
            after = datetime.strptime(match.group(1), VERSION_FORMAT) + timedelta(minutes=1)
            base = max(base, after.replace(second=0))
    return base


def _header(config: Config, migration: Migration, number: int, total: int, rollback: str, role: str) -> str:
    timeouts = sql.SQL("SET lock_timeout = {};\nSET statement_timeout = {};").format(
        sql.Literal(f"{config.constraints.lock_timeout_ms}ms"),
        sql.Literal(f"{config.constraints.statement_timeout_ms}ms"),
    )
    return (
        f"-- consolidate, phase {migration.phase}: {migration.purpose} ({role} {number} of {total}).\n"
        f"-- Generated by `consolidate plan --format supabase`; {rollback}\n"
        f"{timeouts.as_string(None)}\n"
    )


def render(config: Config, chosen: list[Migration], base: datetime) -> dict[Path, str]:
    """The text of every file, by path relative to the project root."""
    files: dict[Path, str] = {}
    for number, migration in enumerate(chosen, start=1):
        version = (base + timedelta(seconds=number - 1)).strftime(VERSION_FORMAT)
        file_name = f"{version}_{NAME_PREFIX}{migration.phase}_{number:02d}_{migration.name}.sql"
        up = "\n\n".join(
            _CONCURRENT_INDEX.sub(lambda found: CONCURRENTLY_NOTE + found.group(1), s.strip())
            for s in migration.up
        )
        files[MIGRATIONS / file_name] = (
            _header(config, migration, number, len(chosen), f"undone by {ROLLBACKS / file_name}", "migration")
            + "\n"
            + up
            + "\n"
        )
        down = "\n\n".join(_explained(s.strip()) for s in migration.down) or (
            "-- Nothing to undo: this migration changes nothing that was not there before, or only\n"
            "-- proves existing rows (a validation); the objects go with the earlier files' rollbacks."
        )
        files[ROLLBACKS / file_name] = (
            _header(config, migration, number, len(chosen), f"undoes {MIGRATIONS / file_name}", "rollback")
            + "\n"
            + down
            + "\n"
        )
    return files


def _explained(statement: str) -> str:
    """STATEMENT with the squawk exception it needs in a rollback file, and why."""
    for prefix, rule in ROLLBACK_IGNORES.items():
        if statement.startswith(prefix):
            return f"-- Rollback: its migration created this.\n-- squawk-ignore {rule}\n{statement}"
    return statement


def write(
    conn: psycopg.Connection, config: Config, directory: Path, review: list[Step] | None = None
) -> list[Path]:
    """Write the migration and rollback files (replacing ones an earlier run wrote) and, when
    given, the data phases' statements for review; return the paths written."""
    files = render(config, migrations(conn, config), base_version(directory))
    for folder in (MIGRATIONS, ROLLBACKS):
        (directory / folder).mkdir(parents=True, exist_ok=True)
        for stale in (directory / folder).glob(f"*_{NAME_PREFIX}*.sql"):
            stale.unlink()
    written = []
    for relative, text in files.items():
        (directory / relative).write_text(text, encoding="utf-8")
        written.append(directory / relative)
    if review is not None:
        folder = directory / REVIEW
        for stale in folder.glob("*.sql") if folder.is_dir() else []:
            stale.unlink()
        written += write_steps(review, folder)
    return written
