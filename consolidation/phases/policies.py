"""The policies phase: plan, apply (one transaction, journaled) and exact rollback of the access policy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import psycopg
from psycopg import sql

from consolidation.core import crash, journal, sqlfiles
from consolidation.core.config import Config
from consolidation.core.ddl import BoundedExecutor
from consolidation.core.errors import FindingsError, UsageError
from consolidation.core.names import HELPER_FUNCTIONS, INDEXES, check_mapping, helper_signature
from consolidation.core.names import policy_identifiers as identifiers
from consolidation.phases.contract import Context, Finding, Option, Plan, Report, Result, Step

PHASE = "policies"
# Where is_chat_admin() reads the admin role from: the profiles table, or the JWT's app_metadata.
ADMIN_FILES = {"function": "policies/020_admin_function.sql", "claim": "policies/021_admin_claim.sql"}
API_ROLES = ("anon", "authenticated", "service_role")
PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"}
)
TRIGGER = "chat_messages_content_only"
# The transition window's policies on the legacy tables and on each legacy bucket (interim).
INTERIM_TABLES_FILE = "policies/070_legacy_interim.sql"
INTERIM_BUCKET_FILE = "policies/075_legacy_bucket.sql"
# Policy names are identifiers (at most 63 bytes), hence short.
INTERIM_BUCKET_POLICIES = {
    "legacy_read": "{bucket}: uploader, participants, admins read",
    "legacy_upload": "{bucket}: uploaders write their own folder",
    "legacy_replace": "{bucket}: uploaders replace their own",
    "legacy_remove": "{bucket}: uploaders remove their own",
}
# Cut-over's own marker on the legacy tables: the policies phase never drops it (unless it
# installed it itself, with --include-legacy).
CUT_OVER_MARKER = "legacy: cut over, service_role only"
_LITERAL = re.compile(r"(?<!:):'([A-Za-z_][A-Za-z0-9_.]*)'")


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
    interim_legacy: bool = True

    def sql_text(self) -> str:
        parts = []
        for step in self.steps:
            where = "in the transaction" if step.transactional else "on its own, before the transaction"
            parts.append(f"-- {step.name} ({where})\n{step.sql.strip()}")
        return "\n\n".join(parts) + "\n"


def literals(config: Config) -> dict[str, Any]:
    return {
        "bucket": config.storage.target_bucket,
        "admin_roles": list(config.policies.admin_roles),
        "content_column": config.columns.chat_messages.content,
        "chat_context_types": list(config.voice_notes.chat_context_types),
    }


def render(
    relative: str,
    config: Config,
    values: dict[str, Any] | None = None,
    names: dict[str, sql.Identifier] | None = None,
) -> str:
    """sql/RELATIVE with :"identifiers" quoted and :'values' as SQL literals (DDL takes no
    parameters); VALUES and NAMES add a file's own (a legacy bucket and its policies' names)."""
    chosen = {**literals(config), **(values or {})}

    def literal(match: re.Match[str]) -> str:
        return sql.Literal(chosen[match.group(1)]).as_string(None)

    text = _LITERAL.sub(literal, sqlfiles.load(relative))
    return sqlfiles.render_text(text, {**identifiers(config), **(names or {})}, source=relative)


def interim_steps(config: Config) -> list[Step]:
    """The legacy tables' interim policies, then each legacy bucket's."""
    steps = [Step(PHASE, INTERIM_TABLES_FILE.removeprefix("policies/"), render(INTERIM_TABLES_FILE, config))]
    for bucket in config.storage.legacy_buckets:
        names = {
            key: sql.Identifier(name.format(bucket=bucket)) for key, name in INTERIM_BUCKET_POLICIES.items()
        }
        text = render(INTERIM_BUCKET_FILE, config, {"legacy_bucket": bucket}, names)
        steps.append(Step(PHASE, f"{INTERIM_BUCKET_FILE.removeprefix('policies/')} ({bucket})", text))
    return steps


def _tables(config: Config, include_legacy: bool, interim_legacy: bool = False) -> list[tuple[str, str]]:
    schema = config.tables.schema_
    chosen = [
        (schema, config.tables.chat_sessions),
        (schema, config.tables.chat_messages),
        ("storage", "objects"),
    ]
    if include_legacy or interim_legacy:
        chosen += [(schema, config.tables.messages), (schema, config.tables.voice_notes)]
    if interim_legacy:
        chosen.append((schema, config.tables.bookings))
    return chosen


def _policies(conn: psycopg.Connection, tables: list[tuple[str, str]]) -> list[ExistingPolicy]:
    cursor = conn.execute(
        sqlfiles.load("policies/inspect/policies.sql"),
        {"schemas": [s for s, _ in tables], "tables": [t for _, t in tables]},
    )
    return [ExistingPolicy(*row) for row in cursor.fetchall()]


def _replaced(
    policy: ExistingPolicy, config: Config, *, include_legacy: bool = False, interim_legacy: bool = False
) -> bool:
    """Whether apply drops POLICY: every policy on the chat (and legacy) tables but cut-over's
    marker, and on storage.objects the ones that concern the chat bucket, with the interim
    policies also the legacy buckets' (other buckets keep their policies)."""
    if (policy.schema, policy.table) != ("storage", "objects"):
        return policy.name != CUT_OVER_MARKER or include_legacy
    buckets = [config.storage.target_bucket, *(config.storage.legacy_buckets if interim_legacy else ())]
    literals_ = [sql.Literal(bucket).as_string(None) for bucket in buckets]
    return any(literal in (text or "") for literal in literals_ for text in (policy.qual, policy.with_check))


def _ours(rows: list[dict[str, Any]], include_legacy: bool) -> list[dict[str, Any]]:
    """ROWS without cut-over's marker, unless this phase installs it (--include-legacy)."""
    return [p for p in rows if include_legacy or p["name"] != CUT_OVER_MARKER]


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


def plan(
    conn: psycopg.Connection, config: Config, *, include_legacy: bool = False, interim_legacy: bool = True
) -> PolicyPlan:
    """Read the live policies and return what apply would drop and run. Writes nothing."""
    flags = {"include_legacy": include_legacy, "interim_legacy": interim_legacy}
    drops = [p for p in _policies(conn, _tables(config, **flags)) if _replaced(p, config, **flags)]
    admin_file = ADMIN_FILES[config.policies.admin_source]
    files = [
        admin_file,
        "policies/030_chat_sessions.sql",
        "policies/040_chat_messages.sql",
        "policies/050_storage_objects.sql",
    ]
    steps = [*_invalid_index_drops(conn, config), *index_steps(config)]
    steps += [Step(PHASE, f"drop {p.schema}.{p.table}: {p.name}", _drop(p)) for p in drops]
    steps += [Step(PHASE, relative.removeprefix("policies/"), render(relative, config)) for relative in files]
    if interim_legacy:
        steps += interim_steps(config)
    if include_legacy:
        relative = "policies/060_legacy_cut_over.sql"
        steps.append(Step(PHASE, relative.removeprefix("policies/"), render(relative, config)))
    return PolicyPlan(drops=drops, steps=steps, include_legacy=include_legacy, interim_legacy=interim_legacy)


def _bucket_flags(conn: psycopg.Connection, config: Config) -> dict[str, bool]:
    rows = conn.execute(
        sqlfiles.load("policies/inspect/buckets.sql"), {"buckets": list(config.storage.legacy_buckets)}
    ).fetchall()
    return {bucket: public for bucket, public in rows}


def snapshot(
    conn: psycopg.Connection, config: Config, include_legacy: bool, interim_legacy: bool = False
) -> dict[str, Any]:
    """Everything apply changes, as it is before apply: what rollback restores."""
    tables = _tables(config, include_legacy, interim_legacy)
    args = {"schemas": [s for s, _ in tables], "tables": [t for _, t in tables]}
    table_rows = conn.execute(
        sqlfiles.load("policies/inspect/tables.sql"), {**args, "roles": list(API_ROLES)}
    )
    names = identifiers(config)
    objects = conn.execute(
        sqlfiles.load("policies/inspect/objects.sql"),
        {
            "helper": sqlfiles.quote(names["helper"]),
            "functions": [helper_signature(config, f) for f in HELPER_FUNCTIONS],
            "messages": sqlfiles.quote(names["chat_messages"]),
            "indexes": [
                sqlfiles.quote(sql.Identifier(config.tables.schema_, index)) for _, index in INDEXES.values()
            ],
        },
    ).fetchone()
    assert objects is not None
    return {
        "include_legacy": include_legacy,
        "interim_legacy": interim_legacy,
        # The legacy buckets' public flags, which the interim policies turn off.
        "buckets": _bucket_flags(conn, config) if interim_legacy else {},
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
    for function in HELPER_FUNCTIONS:
        signature = helper_signature(config, function)
        previous = snapshot["functions"].get(signature)
        text = previous + ";" if previous else f"DROP FUNCTION IF EXISTS {signature};"
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
    for bucket, public in snapshot.get("buckets", {}).items():
        text = (
            sql.SQL("UPDATE storage.buckets SET public = {} WHERE id = {};")
            .format(sql.Literal(public), sql.Literal(bucket))
            .as_string(None)
        )
        steps.append(Step(PHASE, f"restore bucket {bucket}: public {public}", text))
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


def _executor(conn: psycopg.Connection, config: Config) -> BoundedExecutor:
    return BoundedExecutor(
        conn, lock_timeout_ms=config.merge.lock_timeout_ms, max_retries=config.merge.max_retries
    )


def _run(conn: psycopg.Connection, config: Config, steps: list[Step]) -> None:
    """The non-transactional steps (concurrent index builds) on their own, then every other step in
    one transaction: the access policy changes all at once or not at all."""
    bounded = _executor(conn, config)
    for step in steps:
        if not step.transactional:
            bounded.statement(step.name, lambda text=step.sql: conn.execute(text))
    crash.point("policies.indexes")
    bounded.statements(f"{PHASE}: one transaction", [s.sql for s in steps if s.transactional])


def _flags(snapshot: dict[str, Any]) -> dict[str, bool]:
    """How the baseline's apply ran (a baseline from before the interim policies has none)."""
    return {
        "include_legacy": snapshot["include_legacy"],
        "interim_legacy": snapshot.get("interim_legacy", False),
    }


def _same_flags(snapshot: dict[str, Any], flags: dict[str, bool]) -> None:
    """Refuse an apply that treats the legacy tables otherwise than the one whose baseline stands."""
    recorded = _flags(snapshot)
    if recorded == flags:
        return
    shown = " ".join(
        flag
        for flag, on in (
            ("--include-legacy", recorded["include_legacy"]),
            ("--no-interim-legacy", not recorded["interim_legacy"]),
        )
        if on
    )
    how = f"with {shown}" if shown else "without --include-legacy or --no-interim-legacy"
    raise UsageError(
        f"the policies were applied {how}; applying them another way would lose the original "
        "state of the legacy tables",
        hint=f"re-run it as it was applied, `{' '.join(['consolidate policies --apply', shown]).rstrip()}`, "
        "or roll back first with `consolidate policies rollback --apply`",
    )


def _as_rows(policies: list[ExistingPolicy]) -> list[dict[str, Any]]:
    return sorted((p.__dict__ for p in policies), key=lambda p: (p["schema"], p["table"], p["name"]))


class Policies:
    """Drop the permissive policies and install the access policy, on tables and storage.objects."""

    name: ClassVar[str] = PHASE
    requires: ClassVar[tuple[str, ...]] = ("merge",)
    tables: ClassVar[tuple[str, ...]] = ("profiles", "chat_sessions", "chat_messages")
    summary: ClassVar[str] = (
        "Install the access policy on the chat tables and storage.objects, in one transaction."
    )
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "include_legacy",
            bool,
            "Also close the legacy tables to everyone but service_role (what cut-over does).",
            default=False,
        ),
        Option(
            "no_interim_legacy",
            bool,
            "Leave the legacy tables and buckets as they are: no interim policy (own rows to their "
            "participants, admins read) for the transition window before cut-over.",
            default=False,
        ),
    )

    def plan(self, ctx: Context, *, counts: bool = True) -> Plan:
        conn, config = ctx.conn, ctx.config
        flags = {
            "include_legacy": bool(ctx.option("include_legacy", False)),
            "interim_legacy": not ctx.option("no_interim_legacy", False),
        }
        snapshot = journal.baseline(conn, config, PHASE)
        if snapshot is not None:
            _same_flags(snapshot, flags)
        if flags["interim_legacy"]:
            check_mapping(conn, config, ("messages", "voice_notes", "bookings"))
        current = _as_rows(_policies(conn, _tables(config, **flags)))
        applied = journal.latest(conn, config, PHASE, "apply")
        if (
            snapshot is not None
            and applied is not None
            and _ours(applied["details"].get("after", []), flags["include_legacy"])
            == _ours(current, flags["include_legacy"])
            and journal.phase_state(conn, config, PHASE).applied
        ):
            return Plan(
                PHASE, notes=["the access policy is installed as the last apply left it: nothing to do"]
            )
        chosen = plan(conn, config, **flags)
        result = Plan(PHASE, steps=chosen.steps, state=flags)
        result.counts = {
            "policies to drop": len(chosen.drops),
            "statements": len(chosen.steps),
        }
        result.notes = [f"drops {p.schema}.{p.table}: {p.name}" for p in chosen.drops]
        return result

    def apply(self, ctx: Context, plan: Plan) -> Result:
        """Build the indexes (concurrently), then drop and create the policies in one transaction.

        The state before the first apply is the phase's baseline, recorded before anything
        changes and kept by every later apply (and by a re-run after a kill): rollback restores it.
        """
        conn, config, record = ctx.conn, ctx.config, ctx.record
        assert record is not None
        flags = {key: plan.state[key] for key in ("include_legacy", "interim_legacy")}
        before = journal.record_baseline(conn, config, record, snapshot(conn, config, **flags))
        _run(conn, config, plan.steps)
        crash.point("policies.committed")
        after = _policies(conn, _tables(config, **flags))
        installed = [p for p in _as_rows(after) if p not in before["policies"]]
        dropped = [p for p in before["policies"] if _replaced(ExistingPolicy(**p), config, **flags)]
        details = {"installed": installed, "dropped": dropped, "after": _as_rows(after)}
        counts = {"policies dropped": len(dropped), "policies created": len(installed)}
        return Result(PHASE, "apply", counts, details)

    def verify(self, ctx: Context) -> Report:
        """The access matrix, probed as every persona: every leak, break or error is a finding."""
        from consolidation.policies.probes import probe

        run = probe(ctx.database_url, ctx.config, label="policies verify")
        report = Report(PHASE, counts={"leak": 0, "break": 0, "error": 0})
        for cell in run.findings:
            report.counts[cell.verdict] = report.counts.get(cell.verdict, 0) + 1
            evidence = f"SQLSTATE {cell.sqlstate}: {cell.message}" if cell.sqlstate else f"{cell.rows} row(s)"
            report.findings.append(
                Finding(
                    cell.verdict,
                    f"{cell.persona} {cell.operation}",
                    f"expected {cell.expected}, observed {cell.outcome} ({evidence})",
                )
            )
        report.notes = {"cells probed": len(run.observations)}
        return report

    def rollback_plan(self, ctx: Context) -> Plan:
        """The statements that put back the state before the first apply: drop every policy that
        was not there, recreate every one that was, restore privileges, RLS and helpers."""
        conn, config = ctx.conn, ctx.config
        snapshot = journal.baseline(conn, config, PHASE)
        if snapshot is None:
            raise UsageError(
                "the policies phase has no pre-phase snapshot in the journal: nothing to roll back",
                hint="`consolidate policies --apply` installs them; `consolidate policies plan` previews",
            )
        now = _as_rows(_policies(conn, _tables(config, **_flags(snapshot))))
        installed = [p for p in now if p not in snapshot["policies"]]
        missing = [p for p in snapshot["policies"] if p not in now]
        steps = restore_steps(snapshot, installed, missing, config)
        return Plan(PHASE, "rollback", steps=steps, state={"snapshot": snapshot})

    def rollback(self, ctx: Context, plan: Plan) -> Result:
        conn, config = ctx.conn, ctx.config
        snapshot = plan.state["snapshot"]
        bounded = _executor(conn, config)
        bounded.statements(f"{PHASE} rollback", [s.sql for s in plan.steps if s.transactional])
        for step in plan.steps:
            if not step.transactional:
                bounded.statement(step.name, lambda text=step.sql: conn.execute(text))
        now = _as_rows(_policies(conn, _tables(config, **_flags(snapshot))))
        if now != _as_rows([ExistingPolicy(**p) for p in snapshot["policies"]]):
            raise FindingsError(
                "policies rolled back, but the policies on the chat tables differ from the snapshot",
                hint="something else changed them meanwhile: compare pg_policies with the journal's snapshot",
            )
        journal.clear_baseline(conn, config, PHASE)
        return Result(PHASE, "rollback", {"policies removed": len(now), "statements": len(plan.steps)})
