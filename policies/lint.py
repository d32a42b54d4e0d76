"""Static checks of the live database's row security: one rule per sql/lint/*.sql file."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

import psycopg

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.errors import UsageError
from consolidation.core.names import table

LINT_KIND = "consolidation.rls-lint"
LINT_VERSION = 1
API_ROLES = ["anon", "authenticated"]
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


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise UsageError(f"unknown severity {text!r}", hint="choose info, warning or error") from None


@dataclass(frozen=True)
class Rule:
    id: str
    file: str
    severity: Severity
    title: str
    help: str


RULES = (
    Rule(
        "rls-disabled",
        "lint/010_rls_disabled.sql",
        Severity.ERROR,
        "Row level security is off on a table that has policies or is API-exposed",
        "Enable row level security; without it policies are ignored and the API roles see every row.",
    ),
    Rule(
        "true-on-writes",
        "lint/020_true_on_writes.sql",
        Severity.ERROR,
        "A write policy is USING (true) or WITH CHECK (true)",
        "Any signed-in (or anonymous) user may write any row; state who may write which rows.",
    ),
    Rule(
        "select-only",
        "lint/030_select_only.sql",
        Severity.ERROR,
        "Only SELECT policies while API roles may insert: inserts will fail",
        "Add INSERT (and UPDATE) policies with WITH CHECK, or revoke INSERT so the denial is explicit.",
    ),
    Rule(
        "missing-with-check",
        "lint/040_missing_with_check.sql",
        Severity.WARNING,
        "An INSERT / UPDATE policy has no WITH CHECK",
        "Say what a new or changed row must satisfy; otherwise USING is reused or nothing is checked.",
    ),
    Rule(
        "auth-per-row",
        "lint/050_auth_per_row.sql",
        Severity.WARNING,
        "auth.*() is called per row",
        "Write (select auth.uid()) so the planner evaluates it once per statement.",
    ),
    Rule(
        "multiple-permissive",
        "lint/060_multiple_permissive.sql",
        Severity.WARNING,
        "Several permissive policies for one role and action",
        "Merge them into one policy per role and action: each is evaluated for every row.",
    ),
    Rule(
        "security-definer",
        "lint/070_security_definer.sql",
        Severity.ERROR,
        "A SECURITY DEFINER function lacks a pinned search_path or is executable by anon",
        "Add SET search_path = '' and REVOKE EXECUTE ... FROM PUBLIC, anon.",
    ),
    Rule(
        "view-not-security-invoker",
        "lint/080_views_security_invoker.sql",
        Severity.ERROR,
        "A view over chat tables runs as its owner",
        "ALTER VIEW ... SET (security_invoker = true) so the tables' policies apply to the caller.",
    ),
)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    object: str
    message: str
    detail: str


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
        counts = {s.name.lower(): 0 for s in sorted(Severity, reverse=True)}
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
                {"id": r.id, "severity": r.severity.name.lower(), "title": r.title, "help": r.help}
                for r in RULES
            ],
            "summary": {**self.counts(), "passed": self.passed},
            "findings": [asdict(f) for f in self.findings],
        }


def lint(
    conn: psycopg.Connection, config: Config, *, database: str = "", fail_on: str = "error"
) -> LintReport:
    """Run every rule against CONN's catalogs; reads only."""
    Severity.parse(fail_on)
    chat_tables = [
        sqlfiles.quote(table(config, name))
        for name in ("chat_sessions", "chat_messages", "messages", "voice_notes")
    ]
    existing = [
        name
        for name in chat_tables
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()[0]
    ]
    params = {
        "api_roles": API_ROLES,
        "exposed_schemas": [*EXPOSED_SCHEMAS, config.tables.schema_],
        "ignored_schemas": IGNORED_SCHEMAS,
        "chat_tables": existing,
    }
    findings = []
    for rule in RULES:
        for obj, message, detail in conn.execute(sqlfiles.load(rule.file), params).fetchall():
            findings.append(Finding(rule.id, rule.severity.name.lower(), obj, message, detail or ""))
    return LintReport(datetime.now(UTC).isoformat(timespec="seconds"), database, findings, fail_on)


def rule(rule_id: str) -> Rule:
    return next(r for r in RULES if r.id == rule_id)
