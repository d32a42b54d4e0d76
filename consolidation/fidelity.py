"""How a database's Supabase contract compares with hosted Supabase's, as recorded in an expectation
derived from Supabase's own migrations (tests/fixtures/fidelity/supabase.toml).

The catalog is read with sql/fidelity/*.sql into facts keyed like the expectation's tables
("role postgres", "table storage.objects", ...). Every field the expectation gives for an object
is compared; the objects of the reserved schemas (auth, storage, realtime) that the expectation
does not list are reported too, so drift on either side is seen. The expectation names the
differences the stack keeps on purpose, each with its reason; a listed difference that no
longer occurs is reported as well, so the list stays true.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from consolidation.core import sqlfiles

Facts = dict[str, dict[str, Any]]
# A field named <field>_since_<major> holds from that PostgreSQL major on, and is empty before.
SINCE = "_since_"


@dataclass(frozen=True)
class Expectation:
    roles: tuple[str, ...]
    schemas: tuple[str, ...]
    reserved_schemas: tuple[str, ...]
    extensions: tuple[str, ...]
    callers: tuple[str, ...]
    objects: Facts
    differences: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Expectation:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        scope = raw["scope"]
        return cls(
            roles=tuple(scope["roles"]),
            schemas=tuple(scope["schemas"]),
            reserved_schemas=tuple(scope["reserved_schemas"]),
            extensions=tuple(scope["extensions"]),
            callers=tuple(scope["callers"]),
            objects=raw["objects"],
            differences=raw.get("differences", {}),
        )


@dataclass(frozen=True)
class Fidelity:
    """The comparison: unexpected differences, listed differences that did not occur, and the
    expected extensions this PostgreSQL build does not ship (not the contract's doing)."""

    server_major: int
    mismatches: dict[str, str]
    stale_differences: tuple[str, ...]
    unavailable_extensions: tuple[str, ...]


def read_catalog(conn: psycopg.Connection, expectation: Expectation) -> Facts:
    """The facts the expectation speaks of, as this database has them."""
    args = {
        "roles": list(expectation.roles),
        "schemas": list(expectation.schemas),
        "extensions": list(expectation.extensions),
        "callers": list(expectation.callers),
    }
    modelled = {*expectation.roles, "PUBLIC"}
    facts: Facts = {}

    def rows(name: str, **extra: Any) -> list[tuple[Any, ...]]:
        return conn.execute(sqlfiles.load(f"fidelity/{name}.sql"), {**args, **extra}).fetchall()

    def acl(items: list[str]) -> list[str]:
        return sorted(item for item in items if item.split("=", 1)[0] in modelled)

    def members(names: list[str]) -> list[str]:
        return sorted(name for name in names if name in modelled or name.startswith("pg_"))

    attributes = ("superuser", "inherit", "createrole", "createdb", "login", "replication", "bypassrls")
    for name, *flags, config, member_of, admin_of in rows("010_roles"):
        facts[f"role {name}"] = {
            **dict(zip(attributes, flags, strict=True)),
            "config": sorted(config),
            "member_of": members(member_of),
            "admin_of": members(admin_of),
        }
    for name, owner, grants in rows("020_schemas", schemas=list(expectation.schemas)):
        facts[f"schema {name}"] = {"owner": owner, "acl": acl(grants)}
    for name, owner, rls, grants, columns in rows("030_tables", schemas=list(expectation.reserved_schemas)):
        facts[f"table {name}"] = {"owner": owner, "rls": rls, "acl": acl(grants), "columns": columns}
    for signature, owner, volatility, definer, callers in rows(
        "040_functions", schemas=list(expectation.reserved_schemas)
    ):
        facts[f"function {signature}"] = {
            "owner": owner,
            "volatility": {"i": "immutable", "s": "stable", "v": "volatile"}[volatility],
            "security_definer": definer,
            "callers": callers,
        }
    for name, owner, all_tables, operations in rows("050_publications"):
        facts[f"publication {name}"] = {"owner": owner, "all_tables": all_tables, "publish": operations}
    for name, schema in rows("060_extensions"):
        facts[f"extension {name}"] = {"schema": schema}
    for owner_and_schema, kind, grantees in rows("070_default_privileges"):
        facts.setdefault(f"default privileges of {owner_and_schema}", {})[kind] = acl(grantees)
    return facts


def compare(expectation: Expectation, facts: Facts, server_major: int) -> Fidelity:
    """Where FACTS differ from EXPECTATION, field by field, against the listed differences."""
    found: dict[str, str] = {}
    for key, fields in expectation.objects.items():
        actual = facts.get(key)
        if actual is None:
            found[key] = "missing"
            continue
        for field, expected in fields.items():
            name = field
            if SINCE in field:
                name, since = field.split(SINCE)
                if server_major < int(since):
                    expected = [] if isinstance(expected, list) else None
            have = actual.get(name)
            if have != expected:
                found[f"{key} {name}"] = f"expected {expected!r}, found {have!r}"
    prefixes = tuple(
        f"{kind} {schema}." for kind in ("table", "function") for schema in expectation.reserved_schemas
    )
    for key in facts:
        if key.startswith(prefixes) and key not in expectation.objects:
            found[key] = "not on Supabase (the expectation does not list it)"
    unavailable = tuple(
        sorted(name for name in expectation.extensions if f"extension {name}" not in facts)
    )
    for name in unavailable:
        found.pop(f"extension {name}", None)
    mismatches = {key: why for key, why in found.items() if key not in expectation.differences}
    stale = tuple(sorted(key for key in expectation.differences if key not in found))
    return Fidelity(server_major, mismatches, stale, unavailable)


def check(conn: psycopg.Connection, expectation: Expectation) -> Fidelity:
    """Read CONN's catalog and compare it with EXPECTATION."""
    major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    return compare(expectation, read_catalog(conn, expectation), major)
