"""Static checks of the live database's row security: catalog facts from sql/lint/*.sql, policy
expressions, view and function definitions parsed with sqlglot, one rule per mistake."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from consolidation.policies.lint import catalog
from consolidation.policies.lint.findings import Finding, Rule, Severity
from consolidation.policies.lint.rules import RULES

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.names import table

__all__ = ["LINT_KIND", "LINT_VERSION", "RULES", "Finding", "LintReport", "Rule", "Severity", "lint"]

LINT_KIND = "consolidation.rls-lint"
LINT_VERSION = 1
EXPOSED_SCHEMAS = ["public"]
# Schemas Supabase and PostgreSQL manage themselves: their objects are not the project's to fix.
IGNORED_SCHEMAS = [
    "pg_catalog",
    "information_schema",
    "pg_toast",
    "auth",
    "extensions",
    "graphql",
    "graphql_public",
    "realtime",
    "supabase_functions",
    "supabase_migrations",
    "vault",
    "pgsodium",
    "net",
    "cron",
]
# The chat tables the app writes to: only-SELECT policies there break sending messages.
WRITTEN_CHAT_TABLES = ("chat_messages", "messages", "voice_notes")


@dataclass
class LintReport:
    started_at: str
    database: str
    findings: list[Finding]
    fail_on: str = "error"

    def failing(self) -> list[Finding]:
        threshold = Severity.parse(self.fail_on)
        return [f for f in self.findings if Severity.parse(f.severity) >= threshold]

    @property
    def passed(self) -> bool:
        return not self.failing()

    def counts(self) -> dict[str, int]:
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": LINT_KIND,
            "schema_version": LINT_VERSION,
            "started_at": self.started_at,
            "database": self.database,
            "fail_on": self.fail_on,
            "rules": [
                {"id": r.id, "severity": r.severity.label, "title": r.title, "help": r.help} for r in RULES
            ],
            "summary": {**self.counts(), "passed": self.passed},
            "findings": [asdict(f) for f in self.findings],
        }


@contextmanager
def _qualified_names(conn: psycopg.Connection) -> Iterator[None]:
    """An empty search_path for the catalog reads, so the server deparses policies and views with
    every table schema-qualified; the caller's search_path is put back afterwards."""
    row = conn.execute("SELECT current_setting('search_path')").fetchone()
    with conn.transaction():
        conn.execute("SELECT set_config('search_path', '', true)")
        try:
            yield
        finally:
            conn.execute("SELECT set_config('search_path', %s, true)", [row[0] if row else ""])


def lint(
    conn: psycopg.Connection, config: Config, *, database: str = "", fail_on: str = "error"
) -> LintReport:
    """Run every rule against CONN's catalogs; reads only."""
    Severity.parse(fail_on)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    chat_tables = {sqlfiles.quote(table(config, name)) for name in WRITTEN_CHAT_TABLES}
    with _qualified_names(conn):
        displays = conn.execute(
            "SELECT array_agg(to_regclass(name)::text) FROM unnest(%s::text[]) AS t (name)"
            " WHERE to_regclass(name) IS NOT NULL",
            [sorted(chat_tables)],
        ).fetchone()
        facts = catalog.read(
            conn,
            exposed_schemas=[*EXPOSED_SCHEMAS, config.tables.schema_],
            ignored_schemas=IGNORED_SCHEMAS,
            chat_tables=set(displays[0] or []) if displays else set(),
        )
    findings = [finding for rule in RULES for finding in rule.findings(facts)]
    return LintReport(started, database, findings, fail_on)
