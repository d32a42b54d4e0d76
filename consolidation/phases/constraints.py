"""Constraints phase: foreign keys, NOT NULL and indexes on chat_messages, added without long locks.

Every lock the phase takes is bounded by lock_timeout and retried with backoff: foreign keys
and NOT NULL checks are added NOT VALID (a catalog change) and validated afterwards (a scan
that blocks no reads or writes); NOT NULL is set on top of a validated check, so it needs no
scan; indexes are built CONCURRENTLY, each on its own, and an invalid one left by an
interrupted build is dropped and rebuilt. Apply is resumable and idempotent: each run reads
the catalog and does only what is missing. Rollback removes exactly what the phase added,
by the pre-phase state the journal keeps.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

import psycopg
from psycopg import errors, sql

from consolidation.core import journal, sqlfiles
from consolidation.core.config import Config
from consolidation.core.ddl import BoundedExecutor, RetryHook
from consolidation.core.errors import FindingsError, PhaseOrderError, UsageError
from consolidation.core.names import INDEXES
from consolidation.phases import policies as policies_phase
from consolidation.phases.contract import Context, Finding, Option, Plan, Report, Result, Step

PHASE = "constraints"
Kind = Literal["foreign_key", "not_null", "index"]


@dataclass(frozen=True)
class Requirement:
    """One guarantee the phase adds, in the operator's words and as catalog facts."""

    key: str
    kind: Kind
    description: str
    table: tuple[str, str]
    column: str
    # The constraint or index the phase creates (for NOT NULL: its helper check).
    name: str
    referenced: tuple[str, str, str] | None = None
    on_delete_set_null: bool = False
    keys: tuple[str, ...] = ()
    method: str = "btree"
    create_sql: str = ""

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(*self.table)


@dataclass(frozen=True)
class Found:
    """What the catalog holds for a requirement.

    state: absent; not_valid (a foreign key not validated yet); valid; invalid (an index an
    interrupted build left); check_not_valid / check_valid (NOT NULL half way: the helper
    check is there). name: the object that satisfies it, ours or one that was there before.
    """

    state: str
    name: str | None = None
    definition: str | None = None


@dataclass(frozen=True)
class Violations:
    """Rows that would make a constraint fail: the exact count and a bounded sample."""

    count: int
    sample: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class ConstraintsPlan:
    """Per requirement: what is there, which rows would violate it, and the steps still to run."""

    requirements: list[Requirement]
    found: dict[str, Found]
    violations: dict[str, Violations]
    steps: list[Step]
    notes: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> dict[str, Violations]:
        """The violations that would make apply fail, by requirement key."""
        return {key: found for key, found in self.violations.items() if found.count}


def object_name(*parts: str) -> str:
    """PART_PART_..., kept within PostgreSQL's 63 bytes (a long name ends in a hash, not cut)."""
    name = "_".join(parts)
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return name.encode()[:54].decode(errors="ignore") + "_" + digest


def _policy_indexes(config: Config) -> dict[str, str]:
    """The policies' own index statements (sql/policies/010_indexes.sql), by index name: the
    constraints phase builds them so they exist before the policies that need them."""
    statements = [step.sql for step in policies_phase.index_steps(config)]
    by_name = {}
    for _key, (_table, index) in INDEXES.items():
        quoted = sqlfiles.quote(sql.Identifier(index))
        by_name[index] = next(s for s in statements if quoted in s)
    return by_name


def requirements(config: Config) -> list[Requirement]:
    """Everything the phase guarantees, in the order apply builds it: indexes first (so the
    foreign keys' lookups on delete have theirs), then foreign keys, then NOT NULL."""
    schema = config.tables.schema_
    messages = (schema, config.tables.chat_messages)
    sessions = (schema, config.tables.chat_sessions)
    columns = config.columns.chat_messages
    participants = config.columns.chat_sessions.participants
    sender = (
        (schema, config.tables.profiles, config.columns.profiles.id)
        if config.constraints.sender_references == "profiles"
        else ("auth", "users", "id")
    )
    policy_indexes = _policy_indexes(config)
    session_index = INDEXES["index.messages_session_created"][1]
    participants_index = INDEXES["index.sessions_participants"][1]

    def index(key: str, column: str, description: str, file: str) -> Requirement:
        name = object_name(messages[1], column, "idx")
        names = {
            "index": sql.Identifier(name),
            "table": sql.Identifier(*messages),
            "column": sql.Identifier(column),
        }
        return Requirement(
            key,
            "index",
            description,
            messages,
            column,
            name,
            keys=(column,),
            create_sql=sqlfiles.render(file, names),
        )

    def foreign_key(key: str, column: str, referenced: tuple[str, str, str], set_null: bool) -> Requirement:
        label = referenced[1] if referenced[0] == schema else f"{referenced[0]}.{referenced[1]}"
        return Requirement(
            key,
            "foreign_key",
            f"{column} → {label}" + (" ON DELETE SET NULL" if set_null else ""),
            messages,
            column,
            object_name(messages[1], column, "fkey"),
            referenced=referenced,
            on_delete_set_null=set_null,
        )

    def not_null(column: str) -> Requirement:
        return Requirement(
            f"not_null.{column}",
            "not_null",
            f"{column} NOT NULL",
            messages,
            column,
            object_name(messages[1], column, "not_null_check"),
        )

    return [
        # (session, sequence): the sequence follows (created_at, id) within a session and is
        # stored in the tool's session_sequence (keyed by session); on chat_messages the policies'
        # (session_id, created_at DESC) index serves reading a session in that order (scanned
        # backwards) and the session foreign key's lookups, so no near-duplicate is built.
        Requirement(
            "index.session_sequence",
            "index",
            f"index ({columns.session_id}, {columns.created_at} DESC)",
            messages,
            columns.session_id,
            session_index,
            keys=(columns.session_id, f"{columns.created_at} DESC"),
            create_sql=policy_indexes[session_index],
        ),
        Requirement(
            "index.sessions_participants",
            "index",
            f"{sessions[1]} GIN index ({participants})",
            sessions,
            participants,
            participants_index,
            keys=(participants,),
            method="gin",
            create_sql=policy_indexes[participants_index],
        ),
        index("index.sender", columns.sender_id, f"index ({columns.sender_id})", "constraints/100_index.sql"),
        index(
            "index.reply_to",
            columns.reply_to_message_id,
            f"index ({columns.reply_to_message_id}) where set",
            "constraints/101_index_partial.sql",
        ),
        foreign_key("fk.session", columns.session_id, (*sessions, config.columns.chat_sessions.id), False),
        foreign_key("fk.sender", columns.sender_id, sender, False),
        foreign_key("fk.reply_to", columns.reply_to_message_id, (*messages, columns.id), True),
        *(not_null(c) for c in (columns.session_id, columns.sender_id, columns.type, columns.created_at)),
    ]


def _render(relative: str, requirement: Requirement, **extra: sql.Identifier) -> str:
    names = {
        "table": requirement.identifier,
        "column": sql.Identifier(requirement.column),
        "constraint": sql.Identifier(requirement.name),
        "index": sql.Identifier(requirement.table[0], requirement.name),
        **extra,
    }
    if requirement.referenced is not None:
        names["referenced"] = sql.Identifier(*requirement.referenced[:2])
        names["referenced_column"] = sql.Identifier(requirement.referenced[2])
    return sqlfiles.render(relative, names)


def inspect(conn: psycopg.Connection, config: Config) -> dict[str, Found]:
    """What the catalog holds for every requirement, by requirement key."""
    chosen = requirements(config)
    tables = sorted({sqlfiles.quote(r.identifier) for r in chosen})
    columns: dict[tuple[str, str], dict[str, bool]] = {}
    constraints: dict[tuple[str, str], list[tuple]] = {}
    for r in chosen:
        where = r.table
        if where not in columns:
            args = {"table": sqlfiles.quote(r.identifier)}
            columns[where] = dict(conn.execute(sqlfiles.load("constraints/011_inspect_columns.sql"), args))
            constraints[where] = conn.execute(
                sqlfiles.load("constraints/010_inspect_constraints.sql"), args
            ).fetchall()
    indexes = conn.execute(
        sqlfiles.load("constraints/012_inspect_indexes.sql"), {"tables": tables}
    ).fetchall()
    found = {}
    for r in chosen:
        where = r.table
        if r.kind == "index":
            found[r.key] = _index_state(r, [i for i in indexes if (i[0], i[1]) == where])
        elif r.kind == "foreign_key":
            found[r.key] = _foreign_key_state(r, constraints[where])
        else:
            found[r.key] = _not_null_state(r, columns[where], constraints[where])
    return found


def _index_state(r: Requirement, indexes: list[tuple]) -> Found:
    ours = next((i for i in indexes if i[2] == r.name), None)
    if ours and ours[3]:
        return Found("valid", r.name)
    # A valid index of the same shape under another name serves as well (a full one serves a
    # partial requirement too): no near-duplicate is built.
    for _schema, _table, name, valid, method, keys, predicate in indexes:
        if valid and method == r.method and tuple(keys) == r.keys and predicate is None:
            return Found("valid", name)
    return Found("invalid", r.name) if ours else Found("absent")


def _foreign_key_state(r: Requirement, constraints: list[tuple]) -> Found:
    candidates = [
        c for c in constraints if c[1] == "f" and c[2] == [r.column] and r.referenced == (c[3], c[4], *c[5])
    ]
    # Ours by name first, else any foreign key with the same meaning (validated ones first).
    candidates.sort(key=lambda c: (c[0] != r.name, not c[6]))
    if not candidates:
        return Found("absent")
    name, *_rest, validated, definition = candidates[0]
    return Found("valid" if validated else "not_valid", name, definition)


def _not_null_state(r: Requirement, columns: dict[str, bool], constraints: list[tuple]) -> Found:
    if r.column not in columns:
        return Found("absent")
    if columns[r.column]:
        return Found("valid")
    check = next((c for c in constraints if c[0] == r.name and c[1] == "c"), None)
    if check is None:
        return Found("absent")
    return Found("check_valid" if check[6] else "check_not_valid", r.name, check[7])


def requirement_of(step: Step) -> str:
    """The key of the requirement STEP serves (its name is "<key>: <what it does>")."""
    return step.name.split(": ", 1)[0]


def steps_for(r: Requirement, found: Found) -> list[Step]:
    """The statements that take requirement R from FOUND to done (none when it is done)."""

    def step(name: str, text: str, *, transactional: bool = True) -> Step:
        return Step(PHASE, f"{r.key}: {name}", text, transactional=transactional)

    if found.state == "valid":
        return []
    if r.kind == "index":
        rebuild = [
            step("drop invalid index", _render("constraints/200_drop_index.sql", r), transactional=False)
        ]
        return [
            *(rebuild if found.state == "invalid" else []),
            step("create index concurrently", r.create_sql, transactional=False),
        ]
    if r.kind == "foreign_key":
        name = sql.Identifier(found.name or r.name)
        add = (
            "constraints/111_add_foreign_key_set_null.sql"
            if r.on_delete_set_null
            else "constraints/110_add_foreign_key.sql"
        )
        validate = step("validate", _render("constraints/130_validate_constraint.sql", r, constraint=name))
        return (
            [validate] if found.state == "not_valid" else [step("add not valid", _render(add, r)), validate]
        )
    plan = [
        step("add check not valid", _render("constraints/120_add_not_null_check.sql", r)),
        step("validate check", _render("constraints/130_validate_constraint.sql", r)),
        step("set not null", _render("constraints/140_set_not_null.sql", r)),
    ]
    done = {"absent": 0, "check_not_valid": 1, "check_valid": 2}[found.state]
    return plan[done:]


def _ordered(steps: list[Step]) -> list[Step]:
    """Indexes, then every NOT VALID addition, then validations, then SET NOT NULL: each kind of
    lock is taken once per object, briefly, and the long scans hold only non-blocking locks."""
    rank = {
        "create index concurrently": 1,
        "drop invalid index": 0,
        "add not valid": 2,
        "add check not valid": 2,
        "validate": 3,
        "validate check": 3,
        "set not null": 4,
    }
    return sorted(steps, key=lambda s: rank[s.name.split(": ", 1)[1]])


def violations(conn: psycopg.Connection, config: Config, r: Requirement) -> Violations:
    """The rows that would make R's validation fail: exact count, first rows by key."""
    key = sql.Identifier(config.columns.chat_messages.id)
    relative = (
        "constraints/020_violations_foreign_key.sql"
        if r.kind == "foreign_key"
        else "constraints/021_violations_not_null.sql"
    )
    rows = conn.execute(
        _render(relative, r, key=key), {"sample": max(config.constraints.violation_sample, 1)}
    ).fetchall()
    sample = [(row[1], row[2]) for row in rows][: config.constraints.violation_sample]
    return Violations(rows[0][0] if rows else 0, sample)


def plan(conn: psycopg.Connection, config: Config) -> ConstraintsPlan:
    """Read the catalog and the rows that would violate each constraint, in one read-only
    snapshot, and return what apply would do. Writes nothing."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(
            "SELECT set_config('lock_timeout', %s, true)", [f"{config.constraints.lock_timeout_ms}ms"]
        )
        chosen = requirements(config)
        found = inspect(conn, config)
        found_violations = {
            r.key: violations(conn, config, r)
            for r in chosen
            if r.kind != "index" and found[r.key].state != "valid"
        }
    result = ConstraintsPlan(
        requirements=chosen,
        found=found,
        violations=found_violations,
        steps=_ordered([s for r in chosen for s in steps_for(r, found[r.key])]),
    )
    for r in chosen:
        name = found[r.key].name
        if found[r.key].state == "valid" and name and name != r.name and r.kind != "not_null":
            result.notes.append(f"{r.description}: already served by {name}")
    return result


def executor(conn: psycopg.Connection, config: Config, on_retry: RetryHook | None = None) -> BoundedExecutor:
    """The phase's bounded-lock executor (constraints' own lock and statement timeouts); giving
    up names the sessions holding locks on the tables it changes."""
    return BoundedExecutor(
        conn,
        lock_timeout_ms=config.constraints.lock_timeout_ms,
        max_retries=config.constraints.max_retries,
        statement_timeout_ms=config.constraints.statement_timeout_ms,
        on_retry=on_retry,
        tables=sorted({sqlfiles.quote(r.identifier) for r in requirements(config)}),
    )


def drop_if_invalid(conn: psycopg.Connection, index: sql.Identifier) -> bool:
    """Drop INDEX if an interrupted CREATE INDEX CONCURRENTLY left it invalid (IF NOT EXISTS
    would otherwise keep it as it is, serving nothing); return whether it did."""
    row = conn.execute(
        "SELECT NOT x.indisvalid FROM pg_index AS x WHERE x.indexrelid = to_regclass(%s)",
        [sqlfiles.quote(index)],
    ).fetchone()
    if not (row and row[0]):
        return False
    conn.execute(sqlfiles.render("constraints/200_drop_index.sql", {"index": index}))
    return True


def run_step(
    conn: psycopg.Connection, config: Config, step: Step, r: Requirement, bounded: BoundedExecutor
) -> None:
    """Run one step with its lock waits bounded and retried; rows that violate a constraint being
    validated are a finding (the constraint stays NOT VALID, guarding new rows)."""

    def once() -> None:
        if step.name.endswith("create index concurrently"):
            drop_if_invalid(conn, sql.Identifier(r.table[0], r.name))
        conn.execute(step.sql)

    try:
        if step.transactional:
            bounded.transaction(step.name, once)
        else:
            bounded.statement(step.name, once)
    except (errors.ForeignKeyViolation, errors.CheckViolation) as exc:
        # Rows written between the plan's check and the NOT VALID constraint: it now guards new
        # rows; the old ones must be fixed before validation can pass.
        found = violations(conn, config, r)
        raise FindingsError(
            f"{r.description}: {found.count} rows violate it ({_sample_text(found, 3)}): {str(exc).strip()}",
            hint="fix or remove those rows, then re-run `consolidate constraints --apply` (it resumes)",
        ) from exc


def _sample_text(found: Violations, shown: int | None = None) -> str:
    rows = found.sample[:shown] if shown is not None else found.sample
    text = ", ".join(f"{key} ({value})" if value else key for key, value in rows)
    return f"first: {text}" if text else "no sample"


def violation_report(chosen: ConstraintsPlan, shown: int = 3) -> str:
    """The blocking violations in one line: per constraint, the count and the first rows."""
    by_key = {r.key: r for r in chosen.requirements}
    return "; ".join(
        f"{by_key[key].description}: {found.count} rows ({_sample_text(found, shown)})"
        for key, found in chosen.blocking.items()
    )


def verify(conn: psycopg.Connection, config: Config) -> list[str]:
    """What is not in force yet (empty when every foreign key, NOT NULL and index is there and valid)."""
    found = inspect(conn, config)
    return [
        f"{r.description}: {found[r.key].state}"
        for r in requirements(config)
        if found[r.key].state != "valid"
    ]


def _policies_applied(conn: psycopg.Connection, config: Config) -> bool:
    standing = journal.phase_state(conn, config, policies_phase.PHASE)
    return standing.applied or standing.unfinished is not None


def baseline(conn: psycopg.Connection, config: Config) -> dict[str, Found]:
    recorded = journal.baseline(conn, config, PHASE)
    if recorded is None:
        raise UsageError(
            "the constraints phase has not been applied (no pre-phase state in the journal)",
            hint="nothing to roll back; `consolidate constraints apply` adds them",
        )
    return {key: Found(**value) for key, value in recorded.items()}


def rollback_index_sql(r: Requirement) -> str:
    return _render("constraints/200_drop_index.sql", r)


def rollback_constraint_sql(r: Requirement) -> str:
    return _render("constraints/210_drop_constraint.sql", r)


def rollback_not_null_sql(r: Requirement) -> str:
    return _render("constraints/220_drop_not_null.sql", r)


def drop_before_add_sql(r: Requirement) -> str:
    """For migration files only: drop the constraint R adds if a previous run left it."""
    return _render("constraints/105_drop_before_add.sql", r)


def rollback_steps(config: Config, before: dict[str, Found], now: dict[str, Found]) -> list[Step]:
    """The statements that take the catalog from NOW back to BEFORE: only what the phase added.

    A foreign key that was there NOT VALID and that apply validated is put back NOT VALID;
    an index that was there invalid stays rebuilt (an invalid index serves nothing).
    """
    out: list[Step] = []
    # In reverse of apply's order: constraints go before the indexes that served them.
    for r in reversed(requirements(config)):
        was, is_ = before.get(r.key, Found("absent")), now[r.key]

        def step(name: str, text: str, *, transactional: bool = True, r: Requirement = r) -> None:
            out.append(Step(PHASE, f"{r.key}: {name}", text, transactional=transactional))

        if r.kind == "not_null":
            if was.state != "valid" and is_.state == "valid":
                step("drop not null", rollback_not_null_sql(r))
            if is_.state.startswith("check") and not was.state.startswith("check"):
                step("drop helper check", rollback_constraint_sql(r))
        elif r.kind == "foreign_key":
            if was.state == "absent" and is_.state != "absent" and is_.name == r.name:
                step("drop foreign key", rollback_constraint_sql(r))
            elif was.state == "not_valid" and is_.state == "valid" and was.name and was.definition:
                step(
                    "restore not valid",
                    sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}, ADD CONSTRAINT {} {};")
                    .format(
                        r.identifier,
                        sql.Identifier(was.name),
                        sql.Identifier(was.name),
                        sql.SQL(was.definition),
                    )
                    .as_string(None),
                )
        elif was.state == "absent" and is_.state != "absent" and is_.name == r.name:
            step("drop index", rollback_index_sql(r), transactional=False)
    return out


def summary(chosen: ConstraintsPlan) -> list[dict[str, Any]]:
    """One row per requirement for the operator: state, violations, steps still to run."""
    rows = []
    for r in chosen.requirements:
        found = chosen.found[r.key]
        broken = chosen.violations.get(r.key)
        rows.append(
            {
                "requirement": r.description,
                "state": found.state + (f" ({found.name})" if found.name and found.name != r.name else ""),
                "violating rows": broken.count if broken else 0,
                "sample": _sample_text(broken) if broken and broken.count else "",
                "steps": sum(1 for s in chosen.steps if requirement_of(s) == r.key),
            }
        )
    return rows


class Constraints:
    """Foreign keys, NOT NULL and indexes on chat_messages, each lock wait bounded and retried."""

    name: ClassVar[str] = PHASE
    requires: ClassVar[tuple[str, ...]] = ("merge",)
    tables: ClassVar[tuple[str, ...]] = ("profiles", "chat_sessions", "chat_messages")
    summary: ClassVar[str] = (
        "Add foreign keys, NOT NULL and indexes without long locks (NOT VALID, VALIDATE, CONCURRENTLY)."
    )
    options: ClassVar[tuple[Option, ...]] = ()

    def plan(self, ctx: Context, *, counts: bool = True) -> Plan:
        # The plan reads the tables under the phase's lock_timeout: a held lock is waited out.
        bounded = executor(ctx.conn, ctx.config, ctx.events.retry)
        chosen = bounded.retrying("plan", lambda: plan(ctx.conn, ctx.config))
        by_key = {r.key: r for r in chosen.requirements}
        result = Plan(PHASE, steps=chosen.steps, notes=list(chosen.notes), state={"plan": chosen})
        result.counts = {
            "requirements": len(chosen.requirements),
            "already in force": sum(1 for found in chosen.found.values() if found.state == "valid"),
            "steps": len(chosen.steps),
            "rows violating": sum(v.count for v in chosen.violations.values()),
        }
        result.blockers = [
            Finding("violations", by_key[key].description, f"{found.count} rows ({_sample_text(found, 3)})")
            for key, found in chosen.blocking.items()
        ]
        return result

    def apply(self, ctx: Context, plan: Plan) -> Result:
        """Add what is missing in plan order, every lock wait bounded and retried."""
        conn, config, record = ctx.conn, ctx.config, ctx.record
        assert record is not None
        chosen: ConstraintsPlan = plan.state["plan"]
        by_key = {r.key: r for r in chosen.requirements}
        bounded = executor(conn, config, ctx.events.retry)
        journal.record_baseline(conn, config, record, {k: asdict(v) for k, v in chosen.found.items()})
        try:
            for step in plan.steps:
                run_step(conn, config, step, by_key[requirement_of(step)], bounded)
        finally:
            record.details = {
                "steps": [s.name for s in plan.steps],
                "retries": [asdict(event) for event in bounded.retries],
            }
        return Result(
            PHASE,
            "apply",
            {"steps run": len(plan.steps), "lock retries": len(bounded.retries)},
            record.details,
        )

    def verify(self, ctx: Context) -> Report:
        missing = verify(ctx.conn, ctx.config)
        return Report(
            PHASE,
            counts={"not_in_force": len(missing)},
            findings=[Finding("not_in_force", item.split(":", 1)[0], item) for item in missing],
            notes={"requirements": len(requirements(ctx.config))},
        )

    def rollback_plan(self, ctx: Context) -> Plan:
        """What rollback would run now; refused (unless --force-order) while the policies rely on
        indexes it would drop."""
        conn, config = ctx.conn, ctx.config
        before = baseline(conn, config)
        steps = rollback_steps(config, before, inspect(conn, config))
        by_key = {r.key: r for r in requirements(config)}
        shared = {name for _, name in INDEXES.values()}
        dropping_shared = [s.name for s in steps if by_key[requirement_of(s)].name in shared]
        if dropping_shared and not ctx.force_order and _policies_applied(conn, config):
            raise PhaseOrderError(
                "the policies are applied and rely on indexes this phase built "
                f"({', '.join(dropping_shared)})",
                hint="run `consolidate policies rollback --apply` first (or pass --force-order to drop "
                "them anyway)",
            )
        return Plan(PHASE, "rollback", steps=steps, state={"before": before})

    def rollback(self, ctx: Context, plan: Plan) -> Result:
        """Remove exactly what apply added and prove the pre-phase state is back."""
        conn, config, record = ctx.conn, ctx.config, ctx.record
        assert record is not None
        before: dict[str, Found] = plan.state["before"]
        by_key = {r.key: r for r in requirements(config)}
        bounded = executor(conn, config, ctx.events.retry)
        for step in plan.steps:
            run_step(conn, config, step, by_key[requirement_of(step)], bounded)
        after = inspect(conn, config)
        differing = [
            key
            for key, was in before.items()
            if after[key].state != was.state and not (was.state == "invalid" and after[key].state == "valid")
        ]
        record.details = {
            "steps": [s.name for s in plan.steps],
            "retries": [asdict(e) for e in bounded.retries],
        }
        if differing:
            record.details["differing"] = differing
            raise FindingsError(
                f"after rollback, {', '.join(differing)} differ from the pre-phase state",
                hint="something else changed them meanwhile; inspect with `consolidate constraints plan`",
            )
        journal.clear_baseline(conn, config, PHASE)
        return Result(
            PHASE,
            "rollback",
            {"steps run": len(plan.steps), "lock retries": len(bounded.retries)},
            record.details,
        )
