"""Schema drift: how two databases' chat schema differ, and the SQL that aligns the target with the source.

Each side is read from the catalogs (sql/drift/*.sql, one file per kind of object) in one
read-only snapshot and keyed by identity: tables, columns (type, NOT NULL, default), indexes,
constraints, functions (known by name and argument types; compared by result, body hash and
full definition), triggers, policies, row level security flags and grants. The aligning SQL
is composed with psycopg.sql; texts the database deparsed itself (types, defaults, constraint,
index, function and trigger definitions, policy expressions) are replayed as they are.
Nothing only the target has is dropped or revoked unless drops are allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from psycopg import sql

from consolidation.core import journal, sqlfiles
from consolidation.core.config import Config
from consolidation.core.ddl import BoundedExecutor, LockRetry, RetryHook
from consolidation.core.errors import FindingsError, UsageError
from consolidation.phases.constraints import drop_if_invalid, object_name
from consolidation.phases.policies import ExistingPolicy, create_policy_sql

PHASE = "drift"
Key = tuple[str, ...]
Objects = dict[Key, dict[str, Any]]
Change = Literal["missing", "extra", "changed"]
PRIVILEGES = frozenset(
    {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "TRUNCATE",
        "REFERENCES",
        "TRIGGER",
        "MAINTAIN",
        "EXECUTE",
        "USAGE",
        "CREATE",
    }
)
# Creation order; what only the target has goes first, in the reverse order.
KIND_ORDER = (
    "schema",
    "table",
    "column",
    "function",
    "constraint",
    "index",
    "trigger",
    "rls",
    "policy",
    "grant",
)
CONSTRAINT_ORDER = {"p": 0, "u": 1, "x": 2, "c": 3, "f": 4}
TRIGGER_STATE = {
    "O": "ENABLE TRIGGER",
    "D": "DISABLE TRIGGER",
    "R": "ENABLE REPLICA TRIGGER",
    "A": "ENABLE ALWAYS TRIGGER",
}
_NOT_VALID = re.compile(r"\s+NOT VALID$")
# A primary key or unique constraint on plain columns: built as a unique index concurrently first.
_UNIQUE = re.compile(r"^(PRIMARY KEY|UNIQUE)( NULLS NOT DISTINCT)? (\([^()]*\))$")
DROP_REASON = "-- Only the target has it: aligning takes it away (allowed by --allow-drops)."
_CREATE_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX ")


@dataclass(frozen=True)
class Scope:
    """What is compared: every object of SCHEMAS, and the policies of POLICY_TABLES too."""

    schemas: tuple[str, ...]
    policy_tables: tuple[str, ...] = ("storage.objects",)


def scope(config: Config, schemas: list[str] | None = None) -> Scope:
    """The chat schema by default: the app's schema and the policies' helper schema (the tool's
    journal and backups live elsewhere and are never compared)."""
    return Scope(tuple(schemas) if schemas else (config.tables.schema_, config.policies.helper_schema))


@dataclass(frozen=True)
class AlignStep:
    """Statements run together: in one transaction, or on their own (CONCURRENTLY)."""

    sql: str
    transactional: bool = True
    # An index this step builds concurrently: a half-built (invalid) one is dropped before a retry.
    index: tuple[str, str] | None = None


@dataclass(frozen=True)
class Difference:
    kind: str
    name: str
    change: Change
    detail: str
    steps: tuple[AlignStep, ...]
    # Aligning removes something only the target has (object, NOT NULL, default, grant, RLS).
    drop: bool = False
    order: tuple[int, ...] = (0,)


@dataclass
class DriftReport:
    """Every difference, in the order the aligning SQL runs."""

    differences: list[Difference] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.differences)

    def applicable(self, *, allow_drops: bool) -> list[Difference]:
        return [d for d in self.differences if allow_drops or not d.drop]

    def script(self, *, allow_drops: bool, lock_timeout_ms: int = 500) -> str:
        """The aligning SQL as a psql script; drops not allowed are shown, commented out."""
        lines = [
            f"-- Aligns the target with the source: {len(self)} differences.",
            "-- CONCURRENTLY statements run on their own; the others in a transaction each.",
            sql.SQL("SET lock_timeout = {};").format(sql.Literal(f"{lock_timeout_ms}ms")).as_string(None),
            "SET statement_timeout = 0;",
        ]
        for found in self.differences:
            withheld = found.drop and not allow_drops
            lines.append("")
            lines.append(
                f"-- {'withheld (a drop: pass --allow-drops): ' if withheld else ''}"
                f"{found.change} {found.kind} {found.name}: {found.detail}"
            )
            for step in found.steps:
                text = step.sql.strip()
                if step.transactional:
                    text = f"BEGIN;\n{text}\nCOMMIT;"
                lines.extend(f"-- {line}" if withheld else line for line in text.splitlines())
        return "\n".join(lines) + "\n"


def _dropping(rule: str, statement: str, reason: str = DROP_REASON) -> str:
    """STATEMENT with the squawk exception it needs, and why it is there."""
    return f"{reason}\n-- squawk-ignore {rule}\n{statement}"


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def _text(composed: sql.Composable) -> str:
    return composed.as_string(None)


def inspect(conn: psycopg.Connection, chosen: Scope) -> Objects:
    """One database's compared objects, keyed (kind, identity...), in one read-only snapshot."""
    args = {"schemas": list(chosen.schemas), "policy_tables": list(chosen.policy_tables)}
    objects: Objects = {}

    def rows(name: str) -> list[tuple]:
        return conn.execute(sqlfiles.load(f"drift/{name}.sql"), args).fetchall()

    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for (schema,) in rows("010_schemas"):
            objects[("schema", schema)] = {}
        for schema, table, rls, forced in rows("020_tables"):
            objects[("table", schema, table)] = {}
            objects[("rls", schema, table)] = {"enabled": rls, "forced": forced}
        for schema, table, column, type_, not_null, default in rows("030_columns"):
            objects[("column", schema, table, column)] = {
                "type": type_,
                "not_null": not_null,
                "default": default,
            }
        for schema, table, name, type_, definition, validated in rows("040_constraints"):
            objects[("constraint", schema, table, name)] = {
                "type": type_,
                "definition": _NOT_VALID.sub("", definition),
                "validated": validated,
            }
        for schema, table, name, definition, valid in rows("050_indexes"):
            objects[("index", schema, table, name)] = {"definition": definition, "valid": valid}
        for schema, name, types, arguments, result, body, definition, kind in rows("060_functions"):
            objects[("function", schema, name, types)] = {
                "arguments": arguments,
                "result": result,
                "body_sha256": body,
                "definition": definition,
                "kind": kind,
            }
        for schema, table, name, definition, enabled in rows("070_triggers"):
            objects[("trigger", schema, table, name)] = {"definition": definition, "enabled": enabled}
        for schema, table, name, permissive, roles, cmd, qual, with_check in rows("080_policies"):
            objects[("policy", schema, table, name)] = {
                "permissive": permissive,
                "roles": sorted(roles),
                "cmd": cmd,
                "qual": qual,
                "with_check": with_check,
            }
        for schema, table, column, grantee, privilege, grantable in rows("090_table_grants"):
            objects[("grant", "table", schema, table, column, grantee, privilege)] = {"grantable": grantable}
        for schema, name, types, grantee, privilege, grantable in rows("091_function_grants"):
            objects[("grant", "function", schema, name, types, grantee, privilege)] = {"grantable": grantable}
        for schema, grantee, privilege, grantable in rows("092_schema_grants"):
            objects[("grant", "schema", schema, grantee, privilege)] = {"grantable": grantable}
        for schema, object_type, grantee in rows("093_default_privileges"):
            objects.setdefault(("default_acl", schema, object_type), {"grantees": []})["grantees"].append(
                grantee
            )
    return objects


def compare_databases(source: psycopg.Connection, target: psycopg.Connection, chosen: Scope) -> DriftReport:
    """The differences of TARGET from SOURCE and how to align them. Writes nothing."""
    return compare(inspect(source, chosen), inspect(target, chosen))


def compare(source: Objects, target: Objects) -> DriftReport:
    """The differences of TARGET from SOURCE, each with the steps that align it."""
    plan = _Comparison(source, target)
    return DriftReport(sorted(plan.differences(), key=lambda d: (d.order, d.name)))


class _Comparison:
    """Walks the union of both sides' keys; objects that come or go with their table or
    function (columns of a new table, grants of a recreated function) are handled there."""

    def __init__(self, source: Objects, target: Objects) -> None:
        self.source, self.target = source, target
        self.new_tables = self._only("table", source, target)
        self.gone_tables = self._only("table", target, source)
        self.gone_functions = self._only("function", target, source)
        self.new_functions = {
            key[1:]
            for key, value in source.items()
            if key[0] == "function" and (key not in target or self._needs_drop(value, target[key]))
        }

    @staticmethod
    def _only(kind: str, left: Objects, right: Objects) -> set[Key]:
        return {key[1:] for key in left if key[0] == kind and key not in right}

    @staticmethod
    def _needs_drop(source: dict[str, Any], target: dict[str, Any]) -> bool:
        # CREATE OR REPLACE cannot change a result type, the kind, or an argument's name.
        return any(source[k] != target[k] for k in ("result", "kind", "arguments"))

    def _covered(self, key: Key) -> bool:
        kind = key[0]
        if kind == "default_acl":
            return True
        if (
            kind in ("column", "constraint", "index", "trigger", "rls", "policy")
            and key[1:3] in self.gone_tables
        ):
            return True
        if kind == "column" and key[1:3] in self.new_tables:
            return True
        if kind == "constraint" and key[1:3] in self.new_tables:
            return self.source[key]["type"] != "f"
        if kind == "grant" and key[1] == "table":
            return key[2:4] in self.gone_tables | self.new_tables
        if kind == "grant" and key[1] == "function":
            return key[2:5] in self.gone_functions | self.new_functions
        return False

    def differences(self) -> list[Difference]:
        found: list[Difference] = []
        for key in sorted(set(self.source) | set(self.target)):
            if self._covered(key):
                continue
            before, after = self.source.get(key), self.target.get(key)
            if before == after:
                continue
            found += getattr(self, f"_{key[0]}")(key, before, after)
        return found

    # -- one builder per kind: (key, source attributes or None, target attributes or None) ---------

    def _difference(
        self,
        key: Key,
        change: Change,
        detail: str,
        steps: list[AlignStep],
        *,
        drop: bool = False,
        name: str | None = None,
        sub: int = 0,
    ) -> Difference:
        kind = key[0]
        rank = KIND_ORDER.index(kind)
        order = (0, len(KIND_ORDER) - rank, sub) if change == "extra" else (1, rank, sub)
        return Difference(kind, name or ".".join(key[1:]), change, detail, tuple(steps), drop, order)

    def _schema(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        schema = _ident(key[1])
        if after is None:
            return [
                self._difference(
                    key,
                    "missing",
                    "create it",
                    [AlignStep(_text(sql.SQL("CREATE SCHEMA IF NOT EXISTS {};").format(schema)))],
                )
            ]
        return [
            self._difference(
                key,
                "extra",
                "only in the target",
                [
                    AlignStep(
                        _dropping(
                            "ban-drop-schema", _text(sql.SQL("DROP SCHEMA IF EXISTS {};").format(schema))
                        )
                    )
                ],
                drop=True,
            )
        ]

    def _table(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        _, schema, table = key
        target = _ident(schema, table)
        if before is None:
            return [
                self._difference(
                    key,
                    "extra",
                    "only in the target",
                    [
                        AlignStep(
                            _dropping(
                                "ban-drop-table", _text(sql.SQL("DROP TABLE IF EXISTS {};").format(target))
                            )
                        )
                    ],
                    drop=True,
                )
            ]
        columns = [
            sql.SQL("{} {}{}{}").format(
                _ident(k[3]),
                sql.SQL(v["type"]),
                sql.SQL(" DEFAULT {}").format(sql.SQL(v["default"]))
                if v["default"] is not None
                else sql.SQL(""),
                sql.SQL(" NOT NULL") if v["not_null"] else sql.SQL(""),
            )
            for k, v in self.source.items()
            if k[0] == "column" and k[1:3] == key[1:]
        ]
        # Its keys and checks come with it (an empty table needs no NOT VALID); foreign keys follow.
        columns += [
            sql.SQL("CONSTRAINT {} {}").format(_ident(k[3]), sql.SQL(v["definition"]))
            for k, v in self.source.items()
            if k[0] == "constraint" and k[1:3] == key[1:] and v["type"] != "f"
        ]
        create = sql.SQL("CREATE TABLE IF NOT EXISTS {} (\n  {}\n);").format(
            target, sql.SQL(",\n  ").join(columns)
        )
        statements = [_text(create), *self._reset_grants("table", key[1:], target)]
        return [
            self._difference(
                key, "missing", f"create it with {len(columns)} columns", [AlignStep("\n".join(statements))]
            )
        ]

    def _reset_grants(self, kind: str, identity: Key, target: sql.Composable) -> list[str]:
        """For an object aligning creates: take back what creating it grants by default (the
        target's default privileges, and PUBLIC's EXECUTE on a function), then grant the source's."""
        object_type = "r" if kind == "table" else "f"
        defaults = {
            grantee
            for schema in ("", identity[0])
            for grantee in self.target.get(("default_acl", schema, object_type), {}).get("grantees", [])
        }
        if kind == "function":
            defaults.add("PUBLIC")
        on = sql.SQL("TABLE {}" if kind == "table" else "ROUTINE {}").format(target)
        out = (
            [
                _text(
                    sql.SQL("REVOKE ALL ON {} FROM {};").format(
                        on, sql.SQL(", ").join(map(_grantee, sorted(defaults)))
                    )
                )
            ]
            if defaults
            else []
        )
        for key, value in self.source.items():
            if key[0] == "grant" and key[1] == kind and key[2 : 2 + len(identity)] == identity:
                column = key[4] if kind == "table" else ""
                out.append(_grant_sql(key[-1], on, key[-2], value["grantable"], column))
        return out

    def _rls(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        target = _ident(*key[1:])
        before = before or {"enabled": False, "forced": False}
        after = after or {"enabled": False, "forced": False}
        out = []
        for flag, on, off in (("enabled", "ENABLE", "DISABLE"), ("forced", "FORCE", "NO FORCE")):
            if before[flag] != after[flag]:
                verb = on if before[flag] else off
                out.append(
                    self._difference(
                        key,
                        "changed",
                        f"row level security {flag}: {after[flag]} → {before[flag]}",
                        [
                            AlignStep(
                                _text(
                                    sql.SQL("ALTER TABLE {} {} ROW LEVEL SECURITY;").format(
                                        target, sql.SQL(verb)
                                    )
                                )
                            )
                        ],
                        drop=not before[flag],
                        sub=0 if flag == "enabled" else 1,
                    )
                )
        return out

    def _column(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        _, schema, table, column = key
        target, name = _ident(schema, table), _ident(column)

        def alter(text: str, *parts: sql.Composable) -> str:
            return _text(sql.SQL("ALTER TABLE {} " + text).format(target, *parts))

        if before is None:
            return [
                self._difference(
                    key,
                    "extra",
                    "only in the target",
                    [AlignStep(_dropping("ban-drop-column", alter("DROP COLUMN IF EXISTS {};", name)))],
                    drop=True,
                )
            ]
        if after is None:
            default = (
                sql.SQL(" DEFAULT {}").format(sql.SQL(before["default"]))
                if before["default"]
                else sql.SQL("")
            )
            not_null = sql.SQL(" NOT NULL") if before["not_null"] else sql.SQL("")
            return [
                self._difference(
                    key,
                    "missing",
                    f"{before['type']}",
                    [
                        AlignStep(
                            alter("ADD COLUMN {} {}{}{};", name, sql.SQL(before["type"]), default, not_null)
                        )
                    ],
                )
            ]
        out = []
        if before["type"] != after["type"]:
            out.append(
                self._difference(
                    key,
                    "changed",
                    f"type {after['type']} → {before['type']} (rewrites the table under a lock)",
                    [
                        AlignStep(
                            _dropping(
                                "changing-column-type",
                                alter(
                                    "ALTER COLUMN {} TYPE {} USING {}::{};",
                                    name,
                                    sql.SQL(before["type"]),
                                    name,
                                    sql.SQL(before["type"]),
                                ),
                                "-- The source's type: this rewrites the table under an exclusive lock.",
                            )
                        )
                    ],
                    sub=0,
                )
            )
        if before["default"] != after["default"]:
            step = (
                alter("ALTER COLUMN {} SET DEFAULT {};", name, sql.SQL(before["default"]))
                if before["default"] is not None
                else _dropping("ban-drop-default", alter("ALTER COLUMN {} DROP DEFAULT;", name))
            )
            out.append(
                self._difference(
                    key,
                    "changed",
                    f"default {after['default']} → {before['default']}",
                    [AlignStep(step)],
                    drop=before["default"] is None,
                    sub=1,
                )
            )
        if before["not_null"] != after["not_null"]:
            if before["not_null"]:
                steps = _not_null_steps(schema, table, column)
            else:
                steps = [
                    AlignStep(_dropping("ban-drop-not-null", alter("ALTER COLUMN {} DROP NOT NULL;", name)))
                ]
            out.append(
                self._difference(
                    key,
                    "changed",
                    f"NOT NULL: {_yes(after['not_null'])} → {_yes(before['not_null'])}",
                    steps,
                    drop=not before["not_null"],
                    sub=2,
                )
            )
        return out

    def _constraint(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        _, schema, table, name = key
        target, constraint = _ident(schema, table), _ident(name)
        drop = _text(sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {};").format(target, constraint))
        if before is None:
            return [
                self._difference(
                    key,
                    "extra",
                    after["definition"],
                    [AlignStep(_dropping("ban-drop-constraint", drop))],
                    drop=True,
                    sub=-CONSTRAINT_ORDER[after["type"]],
                )
            ]
        sub = CONSTRAINT_ORDER[before["type"]]
        adding = self._add_constraint(schema, table, name, before)
        if after is None:
            return [self._difference(key, "missing", before["definition"], adding, sub=sub)]
        validate = AlignStep(
            _text(sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {};").format(target, constraint))
        )
        if before["definition"] == after["definition"] and before["type"] == after["type"]:
            if after["validated"] or not before["validated"]:
                return []
            return [self._difference(key, "changed", "not validated in the target", [validate], sub=sub)]
        replaced = _dropping("ban-drop-constraint", drop, "-- Replaced by the source's definition.")
        return [
            self._difference(
                key,
                "changed",
                f"{after['definition']} → {before['definition']}",
                [AlignStep(replaced), *adding],
                sub=sub,
            )
        ]

    @staticmethod
    def _add_constraint(schema: str, table: str, name: str, before: dict[str, Any]) -> list[AlignStep]:
        """Without a long lock where PostgreSQL allows it: a foreign key or check NOT VALID, then
        validated; a primary key or unique constraint over a unique index built concurrently."""
        target, constraint = _ident(schema, table), _ident(name)
        if before["type"] in ("f", "c"):
            add = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {} NOT VALID;").format(
                target, constraint, sql.SQL(before["definition"])
            )
            validate = sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {};").format(target, constraint)
            return [AlignStep(_text(add)), *([AlignStep(_text(validate))] if before["validated"] else [])]
        unique = _UNIQUE.match(before["definition"])
        if unique:
            kind, nulls, columns = unique.groups()
            index = sql.SQL("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} {}{};").format(
                constraint, target, sql.SQL(columns), sql.SQL(nulls or "")
            )
            attach = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {};").format(
                target, constraint, sql.SQL(kind), constraint
            )
            return [
                AlignStep(_text(index), transactional=False, index=(schema, name)),
                AlignStep(_text(attach)),
            ]
        plain = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {};").format(
            target, constraint, sql.SQL(before["definition"])
        )
        return [
            AlignStep(
                _dropping(
                    "constraint-missing-not-valid",
                    _text(plain),
                    "-- No NOT VALID or USING INDEX form for this kind: its scan holds the lock.",
                )
            )
        ]

    def _index(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        _, schema, table, name = key
        index = _ident(schema, name)
        drop = AlignStep(
            _text(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {};").format(index)), transactional=False
        )
        if before is None:
            return [self._difference(key, "extra", after["definition"], [drop], drop=True)]
        create = AlignStep(
            _CREATE_INDEX.sub(r"CREATE \1INDEX CONCURRENTLY IF NOT EXISTS ", before["definition"]) + ";",
            transactional=False,
            index=(schema, name),
        )
        if after is None:
            return [self._difference(key, "missing", before["definition"], [create])]
        if before["definition"] == after["definition"] and (after["valid"] or not before["valid"]):
            return []
        detail = (
            "invalid in the target (an interrupted build)"
            if before["definition"] == after["definition"]
            else (f"{after['definition']} → {before['definition']}")
        )
        return [self._difference(key, "changed", detail, [drop, create])]

    def _function(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        _, schema, name, _types = key
        shown = f"{schema}.{name}({(before or after)['arguments']})"
        routine = sql.SQL("{}({})").format(_ident(schema, name), sql.SQL((after or before)["arguments"]))
        drop = _text(sql.SQL("DROP ROUTINE {};").format(routine))
        if before is None:
            return [
                self._difference(
                    key,
                    "extra",
                    f"returns {after['result']}",
                    [AlignStep(_dropping("ban-drop-function", drop))],
                    drop=True,
                    name=shown,
                )
            ]
        create = before["definition"].rstrip() + ";"
        new_routine = sql.SQL("{}({})").format(_ident(schema, name), sql.SQL(before["arguments"]))
        if after is None or self._needs_drop(before, after):
            # CREATE OR REPLACE cannot change the result, kind or argument names: drop, then create.
            replaced = "-- Replaced by the source's version, in the same transaction."
            statements = [_dropping("ban-drop-function", drop, replaced)] if after is not None else []
            statements += [create, *self._reset_grants("function", key[1:], new_routine)]
            detail = f"returns {before['result']}, body sha256 {before['body_sha256'][:12]}"
            if after is not None:
                detail = f"returns {after['result']} → {before['result']}; " + _body_change(before, after)
            return [
                self._difference(
                    key,
                    "missing" if after is None else "changed",
                    detail,
                    [AlignStep("\n".join(statements))],
                    name=shown,
                )
            ]
        return [
            self._difference(key, "changed", _body_change(before, after), [AlignStep(create)], name=shown)
        ]

    def _trigger(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        _, schema, table, name = key
        target, trigger = _ident(schema, table), _ident(name)
        drop = _text(sql.SQL("DROP TRIGGER IF EXISTS {} ON {};").format(trigger, target))
        if before is None:
            return [self._difference(key, "extra", after["definition"], [AlignStep(drop)], drop=True)]
        statements = [before["definition"] + ";"]
        if before["enabled"] != "O":
            statements.append(
                _text(
                    sql.SQL("ALTER TABLE {} {} {};").format(
                        target, sql.SQL(TRIGGER_STATE[before["enabled"]]), trigger
                    )
                )
            )
        if after is None:
            return [
                self._difference(key, "missing", before["definition"], [AlignStep("\n".join(statements))])
            ]
        if before["definition"] == after["definition"]:
            statements = statements[1:] or [
                _text(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {};").format(target, trigger))
            ]
            return [
                self._difference(
                    key,
                    "changed",
                    f"enabled {after['enabled']} → {before['enabled']}",
                    [AlignStep("\n".join(statements))],
                )
            ]
        return [
            self._difference(
                key,
                "changed",
                f"{after['definition']} → {before['definition']}",
                [AlignStep("\n".join([drop, *statements]))],
            )
        ]

    def _policy(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        _, schema, table, name = key
        drop = _text(sql.SQL("DROP POLICY IF EXISTS {} ON {};").format(_ident(name), _ident(schema, table)))
        if before is None:
            return [
                self._difference(
                    key,
                    "extra",
                    f"{after['cmd']} to {', '.join(after['roles'])}",
                    [AlignStep(drop)],
                    drop=True,
                )
            ]
        create = create_policy_sql(ExistingPolicy(schema, table, name, **before))
        if after is None:
            return [
                self._difference(
                    key, "missing", f"{before['cmd']} to {', '.join(before['roles'])}", [AlignStep(create)]
                )
            ]
        changed = ", ".join(k for k in before if before[k] != after[k])
        return [self._difference(key, "changed", f"{changed} differ", [AlignStep(drop + "\n" + create)])]

    def _grant(self, key: Key, before: dict | None, after: dict | None) -> list[Difference]:
        kind, grantee, privilege = key[1], key[-2], key[-1]
        if kind == "table":
            on, column, shown = (
                sql.SQL("TABLE {}").format(_ident(key[2], key[3])),
                key[4],
                ".".join(key[2:5:1]),
            )
        elif kind == "function":
            routine = self.source.get(("function", *key[2:5])) or self.target[("function", *key[2:5])]
            on = sql.SQL("ROUTINE {}({})").format(_ident(key[2], key[3]), sql.SQL(routine["arguments"]))
            column, shown = "", f"{key[2]}.{key[3]}({routine['arguments']})"
        else:
            on, column, shown = sql.SQL("SCHEMA {}").format(_ident(key[2])), "", key[2]
        name = f"{privilege} on {shown.rstrip('.')} to {grantee}"
        if before is None:
            revoke = sql.SQL("REVOKE {} {}ON {} FROM {};").format(
                _privilege(privilege), _columns(column), on, _grantee(grantee)
            )
            return [
                self._difference(
                    key, "extra", "only in the target", [AlignStep(_text(revoke))], drop=True, name=name
                )
            ]
        if after is None or before["grantable"]:
            return [
                self._difference(
                    key,
                    "missing" if after is None else "changed",
                    "with grant option" if before["grantable"] else "",
                    [AlignStep(_grant_sql(privilege, on, grantee, before["grantable"], column))],
                    name=name,
                )
            ]
        revoke = sql.SQL("REVOKE GRANT OPTION FOR {} {}ON {} FROM {};").format(
            _privilege(privilege), _columns(column), on, _grantee(grantee)
        )
        return [
            self._difference(
                key,
                "changed",
                "grant option only in the target",
                [AlignStep(_text(revoke))],
                drop=True,
                name=name,
            )
        ]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _body_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    if before["body_sha256"] == after["body_sha256"]:
        return "same body, other attributes (language, volatility, security, settings)"
    return f"body sha256 {after['body_sha256'][:12]} → {before['body_sha256'][:12]}"


def _privilege(name: str) -> sql.SQL:
    if name not in PRIVILEGES:
        raise UsageError(f"unexpected privilege {name!r} in the catalog")
    return sql.SQL(name)


def _grantee(name: str) -> sql.Composable:
    return sql.SQL("PUBLIC") if name == "PUBLIC" else _ident(name)


def _columns(column: str) -> sql.Composable:
    return sql.SQL("({}) ").format(_ident(column)) if column else sql.SQL("")


def _grant_sql(privilege: str, on: sql.Composable, grantee: str, grantable: bool, column: str = "") -> str:
    return _text(
        sql.SQL("GRANT {} {}ON {} TO {}{};").format(
            _privilege(privilege),
            _columns(column),
            on,
            _grantee(grantee),
            sql.SQL(" WITH GRANT OPTION" if grantable else ""),
        )
    )


def _not_null_steps(schema: str, table: str, column: str) -> list[AlignStep]:
    """NOT NULL without a long lock, as the constraints phase does it: a NOT VALID check, its
    validation, then SET NOT NULL on top of it (and the check dropped), each its own transaction."""
    names = {
        "table": _ident(schema, table),
        "column": _ident(column),
        "constraint": _ident(object_name(table, column, "not_null_check")),
    }
    return [
        AlignStep(sqlfiles.render(relative, names))
        for relative in (
            "constraints/120_add_not_null_check.sql",
            "constraints/130_validate_constraint.sql",
            "constraints/140_set_not_null.sql",
        )
    ]


@dataclass
class AlignResult:
    record_id: int
    aligned: int
    withheld: int
    retries: list[LockRetry]


def align(
    conn: psycopg.Connection,
    config: Config,
    run: journal.Run,
    report: DriftReport,
    *,
    allow_drops: bool = False,
    on_retry: RetryHook | None = None,
) -> AlignResult:
    """Run the aligning steps on the target (CONN, autocommit), every lock wait bounded and
    retried, journaled there; drops only when allowed."""
    chosen = report.applicable(allow_drops=allow_drops)
    statements = [step.sql for found in chosen for step in found.steps]
    bounded = BoundedExecutor(
        conn,
        lock_timeout_ms=config.constraints.lock_timeout_ms,
        max_retries=config.constraints.max_retries,
        statement_timeout_ms=config.constraints.statement_timeout_ms,
        on_retry=on_retry,
    )
    with (
        journal.phase_lock(conn, config, PHASE),
        journal.recorded_phase(conn, run, PHASE, "apply", journal.sql_sha256(statements)) as record,
    ):
        record.details = {"aligned": [f"{d.change} {d.kind} {d.name}" for d in chosen], "retries": []}
        try:
            for found in chosen:
                for step in found.steps:
                    label = f"{found.change} {found.kind} {found.name}"
                    if step.transactional:
                        bounded.transaction(label, lambda text=step.sql: conn.execute(text))
                    else:
                        bounded.statement(label, _runner(conn, step))
        finally:
            record.details["retries"] = [r.__dict__ for r in bounded.retries]
        record.counts = {
            "aligned": len(chosen),
            "withheld": len(report) - len(chosen),
            "lock retries": len(bounded.retries),
        }
    return AlignResult(record.id, len(chosen), len(report) - len(chosen), bounded.retries)


def _runner(conn: psycopg.Connection, step: AlignStep) -> Callable[[], None]:
    def once() -> None:
        if step.index:
            drop_if_invalid(conn, _ident(*step.index))
        conn.execute(step.sql)

    return once


def require_aligned(report: DriftReport) -> None:
    """Exit 1 (findings) while the target differs from the source."""
    if report.differences:
        drops = sum(1 for d in report.differences if d.drop)
        raise FindingsError(
            f"the target differs from the source in {len(report)} ways ({drops} need --allow-drops)",
            hint="review the SQL above; --apply runs it (--allow-drops also what only the target has)",
        )
