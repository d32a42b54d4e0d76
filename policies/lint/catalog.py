"""The facts the lint judges: tables, policies, views, functions and buckets as sql/lint/*.sql
read them from the catalogs, with every policy expression and definition parsed once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from consolidation.policies.lint import parsed
from psycopg.rows import dict_row
from sqlglot import exp

from consolidation.core import sqlfiles

API_ROLES = ("anon", "authenticated")
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
WRITES = ("INSERT", "UPDATE", "DELETE")
# What a policy FOR <command> governs, as table privileges.
COMMAND_PRIVILEGES = {
    "ALL": PRIVILEGES,
    "SELECT": ("SELECT",),
    "INSERT": ("INSERT",),
    "UPDATE": ("UPDATE",),
    "DELETE": ("DELETE",),
}
# Bodies in these languages are read for what they reference; others (C, internal) are opaque.
READABLE_LANGUAGES = ("sql", "plpgsql")


@dataclass(frozen=True)
class Table:
    display: str
    schema: str
    name: str
    rls: bool
    policies: int
    exposed: bool
    privileges: dict[str, list[str]]

    def reached_by(self, privileges: Iterable[str], roles: Iterable[str] = API_ROLES) -> list[str]:
        """The ROLES that hold one of PRIVILEGES on the table (with USAGE on its schema)."""
        wanted = set(privileges)
        return [role for role in roles if wanted & set(self.privileges.get(role, []))]


@dataclass(frozen=True)
class Policy:
    display: str
    table_display: str
    name: str
    permissive: bool
    roles: list[str]
    command: str
    using: str | None
    check: str | None
    using_tree: exp.Expression | None = field(default=None, compare=False, repr=False)
    check_tree: exp.Expression | None = field(default=None, compare=False, repr=False)

    @property
    def api_roles(self) -> list[str]:
        """The API roles the policy applies to: all of them for TO PUBLIC."""
        return list(API_ROLES) if "public" in self.roles else [r for r in API_ROLES if r in self.roles]

    @property
    def trees(self) -> list[exp.Expression]:
        return [tree for tree in (self.using_tree, self.check_tree) if tree is not None]

    @property
    def text(self) -> str:
        return " / ".join(
            f"{part} ({text})" for part, text in (("USING", self.using), ("WITH CHECK", self.check)) if text
        )


@dataclass(frozen=True)
class View:
    display: str
    exposed: bool
    definition: str
    security_invoker: bool
    selectable_by: list[str]
    reads: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Function:
    display: str
    exposed: bool
    language: str
    security_definer: bool
    trigger_function: bool
    search_path: str | None
    body: str
    executable_by: list[str]
    reads: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Unparsed:
    """A policy expression, view or function body sqlglot could not parse."""

    display: str
    part: str
    reason: str


@dataclass
class Catalog:
    tables: dict[str, Table]
    policies: list[Policy]
    views: list[View]
    functions: list[Function]
    buckets: dict[str, bool]
    auth_users_readers: list[str]
    chat_tables: set[str]
    unparsed: list[Unparsed]

    def table(self, display: str) -> Table | None:
        return self.tables.get(display)

    def table_named(self, schema: str, name: str) -> Table | None:
        return next((t for t in self.tables.values() if (t.schema, t.name) == (schema, name)), None)

    def policies_on(self, display: str) -> list[Policy]:
        return [p for p in self.policies if p.table_display == display]


def _rows(conn: psycopg.Connection, relative: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(sqlfiles.load(relative), params).fetchall()


def read(
    conn: psycopg.Connection,
    *,
    exposed_schemas: list[str],
    ignored_schemas: list[str],
    chat_tables: set[str],
) -> Catalog:
    """Read every fact from CONN's catalogs (reads only) and parse what the rules walk."""
    params = {
        "api_roles": list(API_ROLES),
        "exposed_schemas": exposed_schemas,
        "ignored_schemas": ignored_schemas,
    }
    unparsed: list[Unparsed] = []

    def parse(display: str, part: str, text: str | None) -> exp.Expression | None:
        if text is None:
            return None
        try:
            return parsed.expression(text)
        except parsed.Unparsable as error:
            unparsed.append(Unparsed(display, part, str(error)))
            return None

    def reads(display: str, part: str, text: str, language: str) -> frozenset[tuple[str, str]]:
        try:
            return frozenset(parsed.tables_read(text, language))
        except parsed.Unparsable as error:
            unparsed.append(Unparsed(display, part, str(error)))
            return frozenset()

    tables = {row["display"]: Table(**row) for row in _rows(conn, "lint/010_tables.sql", params)}
    policies = [
        Policy(
            **row,
            using_tree=parse(row["display"], "USING", row["using"]),
            check_tree=parse(row["display"], "WITH CHECK", row["check"]),
        )
        for row in _rows(conn, "lint/020_policies.sql", params)
    ]
    views = [
        View(**row, reads=reads(row["display"], "view definition", row["definition"], "sql"))
        for row in _rows(conn, "lint/030_views.sql", params)
    ]
    functions = [
        Function(
            **row,
            reads=reads(row["display"], f"{row['language']} body", row["body"], row["language"])
            if row["exposed"] and row["language"] in READABLE_LANGUAGES
            else frozenset(),
        )
        for row in _rows(conn, "lint/040_functions.sql", params)
    ]
    has_buckets = conn.execute("SELECT to_regclass('storage.buckets') IS NOT NULL").fetchone()
    buckets = (
        {row["id"]: row["public"] for row in _rows(conn, "lint/050_buckets.sql", params)}
        if has_buckets and has_buckets[0]
        else {}
    )
    readers = _rows(conn, "lint/060_auth_users_readers.sql", params)[0]["roles"]
    return Catalog(tables, policies, views, functions, buckets, readers, chat_tables, unparsed)
