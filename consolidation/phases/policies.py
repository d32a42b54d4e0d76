"""The policies phase: plan, apply (one transaction, journaled) and exact rollback of the access policy."""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from consolidation.core import journal, sqlfiles
from consolidation.core.config import Config
from consolidation.core.db import contention_retrying
from consolidation.core.errors import UsageError
from consolidation.core.names import HELPER_FUNCTIONS, INDEXES
from consolidation.core.names import policy_identifiers as identifiers

PHASE = "policies"
CRASH_ENV = "CONSOLIDATION_CRASH_IN_POLICIES"
API_ROLES = ("anon", "authenticated", "service_role")
PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"}
)
TRIGGER = "chat_messages_content_only"
_LITERAL = re.compile(r"(?<!:):'([A-Za-z_][A-Za-z0-9_.]*)'")


@dataclass(frozen=True)
class Step:
    """One statement of the phase; non-transactional steps run on their own (CONCURRENTLY)."""

    phase: str
    name: str
    sql: str
    transactional: bool = True


@dataclass(frozen=True)
class ExistingPolicy:
    schema: str
    table: str
    name: str
    permissive: str
    roles: list[str]
    cmd: str
    qual: str | None
    with_check: str | None


@dataclass
class PolicyPlan:
    """What apply would do: the policies it drops and every statement it runs, in order."""

    drops: list[ExistingPolicy]
    steps: list[Step]
    include_legacy: bool

    def sql_text(self) -> str:
        parts = []
        for step in self.steps:
            where = "in the transaction" if step.transactional else "on its own, before the transaction"
            parts.append(f"-- {step.name} ({where})\n{step.sql.strip()}")
        return "\n\n".join(parts) + "\n"


@dataclass
class ApplyResult:
    record_id: int
    dropped: int
    created: int
    indexes_created: list[str] = field(default_factory=list)


def literals(config: Config) -> dict[str, Any]:
    return {
        "bucket": config.storage.target_bucket,
        "admin_roles": list(config.policies.admin_roles),
        "content_column": config.columns.chat_messages.content,
    }


def render(relative: str, config: Config) -> str:
    """sql/RELATIVE with :"identifiers" quoted and :'values' as SQL literals (DDL takes no parameters)."""
    values = literals(config)

    def literal(match: re.Match[str]) -> str:
        return sql.Literal(values[match.group(1)]).as_string(None)

    return sqlfiles.render_text(
        _LITERAL.sub(literal, sqlfiles.load(relative)), identifiers(config), source=relative
    )


def _tables(config: Config, include_legacy: bool) -> list[tuple[str, str]]:
    schema = config.tables.schema_
    chosen = [
        (schema, config.tables.chat_sessions),
        (schema, config.tables.chat_messages),
        ("storage", "objects"),
    ]
    if include_legacy:
        chosen += [(schema, config.tables.messages), (schema, config.tables.voice_notes)]
    return chosen


def _policies(conn: psycopg.Connection, tables: list[tuple[str, str]]) -> list[ExistingPolicy]:
    cursor = conn.execute(
        sqlfiles.load("policies/inspect/policies.sql"),
        {"schemas": [s for s, _ in tables], "tables": [t for _, t in tables]},
    )
    return [ExistingPolicy(*row) for row in cursor.fetchall()]


def _replaced(policy: ExistingPolicy, config: Config) -> bool:
    """Whether apply drops POLICY: every policy on the chat tables, and on storage.objects the
    ones that concern the chat bucket (other buckets keep their policies)."""
    if (policy.schema, policy.table) != ("storage", "objects"):
        return True
    bucket = sql.Literal(config.storage.target_bucket).as_string(None)
    return any(bucket in (text or "") for text in (policy.qual, policy.with_check))


def _drop(policy: ExistingPolicy) -> str:
    return (
        sql.SQL("DROP POLICY IF EXISTS {} ON {};")
        .format(sql.Identifier(policy.name), sql.Identifier(policy.schema, policy.table))
        .as_string(None)
    )


def index_steps(config: Config) -> list[Step]:
    text = render("policies/010_indexes.sql", config)
    statements = [part.strip() for part in re.split(r";\s*\n", text) if part.strip()]
    return [
        Step(PHASE, f"index {n}", statement + ";", transactional=False)
        for n, statement in enumerate(statements, start=1)
    ]


def _invalid_index_drops(conn: psycopg.Connection, config: Config) -> list[Step]:
    """Drops of the policies' indexes a killed CREATE INDEX CONCURRENTLY left invalid: IF NOT
    EXISTS would keep them as they are, serving nothing."""
    steps = []
    for _table, index in INDEXES.values():
        name = sql.Identifier(config.tables.schema_, index)
        row = conn.execute(
            "SELECT NOT x.indisvalid FROM pg_index AS x WHERE x.indexrelid = to_regclass(%s)",
            [sqlfiles.quote(name)],
        ).fetchone()
        if row and row[0]:
            text = sqlfiles.render("constraints/200_drop_index.sql", {"index": name})
            steps.append(Step(PHASE, f"drop invalid index {index}", text, transactional=False))
    return steps


def plan(conn: psycopg.Connection, config: Config, *, include_legacy: bool = False) -> PolicyPlan:
    """Read the live policies and return what apply would drop and run. Writes nothing."""
    drops = [p for p in _policies(conn, _tables(config, include_legacy)) if _replaced(p, config)]
    admin_file = f"policies/020_admin_{config.policies.admin_source}.sql"
    files = [
        admin_file,
        "policies/030_chat_sessions.sql",
        "policies/040_chat_messages.sql",
        "policies/050_storage_objects.sql",
    ]
    if include_legacy:
        files.append("policies/060_legacy_cut_over.sql")
    steps = [*_invalid_index_drops(conn, config), *index_steps(config)]
    steps += [Step(PHASE, f"drop {p.schema}.{p.table}: {p.name}", _drop(p)) for p in drops]
    steps += [Step(PHASE, relative.removeprefix("policies/"), render(relative, config)) for relative in files]
    return PolicyPlan(drops=drops, steps=steps, include_legacy=include_legacy)


def _snapshot(conn: psycopg.Connection, config: Config, include_legacy: bool) -> dict[str, Any]:
    """Everything apply changes, as it is before apply: what rollback restores."""
    tables = _tables(config, include_legacy)
    args = {"schemas": [s for s, _ in tables], "tables": [t for _, t in tables]}
    table_rows = conn.execute(
        sqlfiles.load("policies/inspect/tables.sql"), {**args, "roles": list(API_ROLES)}
    )
    helper = config.policies.helper_schema
    names = identifiers(config)
    objects = conn.execute(
        sqlfiles.load("policies/inspect/objects.sql"),
        {
            "helper": sqlfiles.quote(names["helper"]),
            "functions": [f"{sqlfiles.quote(sql.Identifier(helper, f))}()" for f in HELPER_FUNCTIONS],
            "messages": sqlfiles.quote(names["chat_messages"]),
            "indexes": [
                sqlfiles.quote(sql.Identifier(config.tables.schema_, index)) for _, index in INDEXES.values()
            ],
        },
    ).fetchone()
    assert objects is not None
    return {
        "include_legacy": include_legacy,
        "policies": [p.__dict__ for p in _policies(conn, tables)],
        "tables": [
            dict(
                zip(
                    ("schema", "table", "rls", "force_rls", "table_privileges", "column_privileges"),
                    row,
                    strict=True,
                )
            )
            for row in table_rows.fetchall()
        ],
        "helper_schema": objects[0],
        "functions": objects[1] or {},
        "trigger": objects[2],
        "indexes": objects[3],
    }


def create_policy_sql(policy: ExistingPolicy) -> str:
    roles = sql.SQL(", ").join(
        sql.SQL("PUBLIC") if role == "public" else sql.Identifier(role) for role in policy.roles
    )
    parts = [
        sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}").format(
            sql.Identifier(policy.name),
            sql.Identifier(policy.schema, policy.table),
            sql.SQL("PERMISSIVE" if policy.permissive == "PERMISSIVE" else "RESTRICTIVE"),
            sql.SQL(policy.cmd if policy.cmd in ("ALL", "SELECT", "INSERT", "UPDATE", "DELETE") else "ALL"),
            roles,
        )
    ]
    # The expressions are the database's own deparsed text from pg_policies, replayed as is.
    if policy.qual is not None:
        parts.append(sql.SQL("USING ({})").format(sql.SQL(policy.qual)))
    if policy.with_check is not None:
        parts.append(sql.SQL("WITH CHECK ({})").format(sql.SQL(policy.with_check)))
    return sql.SQL(" ").join(parts).as_string(None) + ";"


def _privilege(name: str) -> sql.SQL:
    if name not in PRIVILEGES:
        raise UsageError(f"unexpected privilege {name!r} in the policies snapshot")
    return sql.SQL(name)


def restore_table(table: dict[str, Any]) -> list[str]:
    """The statements that put back one table's RLS flags and API roles' privileges as TABLE
    (a row of policies/inspect/tables.sql) recorded them."""
    target = sql.Identifier(table["schema"], table["table"])
    out: list[sql.Composable] = []
    if table["schema"] != "storage":
        # storage.objects' RLS flags and grants are never changed by apply, so rollback leaves
        # them alone: on Supabase only their owner, not postgres, may ALTER that table.
        out += [
            sql.SQL("ALTER TABLE {} {} ROW LEVEL SECURITY;").format(
                target, sql.SQL("ENABLE" if table["rls"] else "DISABLE")
            ),
            sql.SQL("ALTER TABLE {} {} ROW LEVEL SECURITY;").format(
                target, sql.SQL("FORCE" if table["force_rls"] else "NO FORCE")
            ),
        ]
        out.append(
            sql.SQL("REVOKE ALL ON {} FROM {};").format(
                target, sql.SQL(", ").join(sql.Identifier(r) for r in API_ROLES)
            )
        )
        for role, privilege, grantable in table["table_privileges"]:
            out.append(
                sql.SQL("GRANT {} ON {} TO {}{};").format(
                    _privilege(privilege),
                    target,
                    sql.Identifier(role),
                    sql.SQL(" WITH GRANT OPTION" if grantable else ""),
                )
            )
        for column, role, privilege, grantable in table["column_privileges"]:
            out.append(
                sql.SQL("GRANT {} ({}) ON {} TO {}{};").format(
                    _privilege(privilege),
                    sql.Identifier(column),
                    target,
                    sql.Identifier(role),
                    sql.SQL(" WITH GRANT OPTION" if grantable else ""),
                )
            )
    return [statement.as_string(None) for statement in out]


def restore_steps(
    snapshot: dict[str, Any], installed: list[dict[str, Any]], dropped: list[dict[str, Any]], config: Config
) -> list[Step]:
    """The statements that undo an apply: drop what it INSTALLED, recreate what it DROPPED (policy
    rows from pg_policies), and put back SNAPSHOT's privileges, RLS flags and helper objects."""
    names = identifiers(config)
    removed = {(p["schema"], p["table"], p["name"]): p for p in [*installed, *dropped]}
    steps = [
        Step(PHASE, f"drop {p['table']}: {p['name']}", _drop(ExistingPolicy(**p))) for p in removed.values()
    ]
    if not snapshot["trigger"]:
        steps.append(
            Step(
                PHASE,
                "drop trigger",
                sql.SQL("DROP TRIGGER IF EXISTS {} ON {};")
                .format(sql.Identifier(TRIGGER), names["chat_messages"])
                .as_string(None),
            )
        )
    helper = config.policies.helper_schema
    for function in HELPER_FUNCTIONS:
        signature = f"{sqlfiles.quote(sql.Identifier(helper, function))}()"
        previous = snapshot["functions"].get(signature)
        text = (
            previous + ";"
            if previous
            else sql.SQL("DROP FUNCTION IF EXISTS {}();").format(names[f"helper.{function}"]).as_string(None)
        )
        steps.append(Step(PHASE, f"restore function {function}", text))
    if not snapshot["helper_schema"]:
        steps.append(
            Step(
                PHASE,
                "drop helper schema",
                sql.SQL("DROP SCHEMA IF EXISTS {};").format(names["helper"]).as_string(None),
            )
        )
    for table in snapshot["tables"]:
        statements = restore_table(table)
        if statements:
            steps.append(
                Step(
                    PHASE,
                    f"restore {table['schema']}.{table['table']} privileges and RLS",
                    "\n".join(statements),
                )
            )
    steps += [
        Step(PHASE, f"recreate {p['table']}: {p['name']}", create_policy_sql(ExistingPolicy(**p)))
        for p in dropped
    ]
    for key, (_table, index) in INDEXES.items():
        qualified = sqlfiles.quote(sql.Identifier(config.tables.schema_, index))
        if qualified not in snapshot["indexes"] and key in names:
            steps.append(
                Step(
                    PHASE,
                    f"drop index {index}",
                    sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {};")
                    .format(sql.Identifier(config.tables.schema_, index))
                    .as_string(None),
                    transactional=False,
                )
            )
    return steps


def _run_transaction(conn: psycopg.Connection, config: Config, statements: list[str]) -> None:
    for attempt in contention_retrying(config.merge.max_retries):
        with attempt, conn.transaction():
            conn.execute("SELECT set_config('lock_timeout', %s, true)", [f"{config.merge.lock_timeout_ms}ms"])
            for statement in statements:
                conn.execute(statement)


def _crash_hook(point: str) -> None:
    """Test hook: CONSOLIDATION_CRASH_IN_POLICIES=<point> SIGKILLs apply there."""
    if os.environ.get(CRASH_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _snapshot_before(
    conn: psycopg.Connection, config: Config, record: journal.PhaseRecord, include_legacy: bool
) -> dict[str, Any]:
    """The state before apply: an interrupted apply's snapshot when one is pending (it may have
    changed the catalogs already, so a new snapshot would record its work), else a new one."""
    for earlier in journal.unfinished(conn, config, record):
        snapshot = earlier["details"].get("snapshot") if earlier["action"] == "apply" else None
        if snapshot is None:
            continue
        if snapshot["include_legacy"] != include_legacy:
            flag = f"{'with' if snapshot['include_legacy'] else 'without'} --include-legacy"
            raise UsageError(
                f"policies apply (journal record {earlier['id']}) was interrupted and ran {flag}; "
                "finishing it another way would lose the original state of the legacy tables",
                hint=f"re-run `consolidate policies apply` {flag}, then change course with rollback",
            )
        return snapshot
    return _snapshot(conn, config, include_legacy)


def apply(
    conn: psycopg.Connection, config: Config, run: journal.Run, *, include_legacy: bool = False
) -> ApplyResult:
    """Build the indexes (concurrently), then drop and create the policies in one transaction.

    The journal record holds the snapshot of what apply replaces before anything changes (a
    re-run after a kill reuses it), then what it installed; CONN must be in autocommit mode.
    """
    chosen = plan(conn, config, include_legacy=include_legacy)
    with journal.recorded_phase(conn, run, PHASE, "apply", [s.sql for s in chosen.steps]) as record:
        snapshot = _snapshot_before(conn, config, record, include_legacy)
        record.details = {"snapshot": snapshot}
        journal.save_details(conn, config, record)
        for step in chosen.steps:
            if not step.transactional:
                conn.execute(step.sql)
        _crash_hook("indexes")
        _run_transaction(conn, config, [s.sql for s in chosen.steps if s.transactional])
        _crash_hook("committed")
        installed = [
            p.__dict__
            for p in _policies(conn, _tables(config, include_legacy))
            if p.__dict__ not in snapshot["policies"]
        ]
        # Taken from the snapshot, not the plan: a resumed apply plans to drop its own policies.
        dropped = [p for p in snapshot["policies"] if _replaced(ExistingPolicy(**p), config)]
        created_indexes = [
            i for i in _snapshot(conn, config, include_legacy)["indexes"] if i not in snapshot["indexes"]
        ]
        record.details = {"snapshot": snapshot, "installed": installed, "dropped": dropped}
        record.counts = {
            "policies dropped": len(dropped),
            "policies created": len(installed),
            "indexes created": len(created_indexes),
        }
    return ApplyResult(
        record_id=record.id,
        dropped=len(dropped),
        created=len(installed),
        indexes_created=created_indexes,
    )


def _pending_apply(conn: psycopg.Connection, config: Config) -> dict[str, Any]:
    applied = journal.latest(conn, config, PHASE, "apply")
    undone = journal.latest(conn, config, PHASE, "rollback")
    if applied is None or (undone is not None and undone["details"].get("apply_record") == applied["id"]):
        raise UsageError(
            "the policies phase has no applied run to roll back",
            hint="`consolidate policies apply` installs the policies; `consolidate policies plan` previews",
        )
    return applied


def rollback_plan(conn: psycopg.Connection, config: Config) -> list[Step]:
    """The statements rollback would run for the newest applied policies. Writes nothing."""
    details = _pending_apply(conn, config)["details"]
    return restore_steps(details["snapshot"], details["installed"], details["dropped"], config)


def rollback(conn: psycopg.Connection, config: Config, run: journal.Run) -> int:
    """Restore the policies, privileges and RLS flags the newest apply replaced; returns its record id."""
    applied = _pending_apply(conn, config)
    details = applied["details"]
    steps = restore_steps(details["snapshot"], details["installed"], details["dropped"], config)
    with journal.recorded_phase(conn, run, PHASE, "rollback", [s.sql for s in steps]) as record:
        record.details = {"apply_record": applied["id"]}
        _run_transaction(conn, config, [s.sql for s in steps if s.transactional])
        for step in steps:
            if not step.transactional:
                conn.execute(step.sql)
        record.counts = {
            "policies removed": len(details["installed"]),
            "policies restored": len(details["dropped"]),
        }
    return applied["id"]
