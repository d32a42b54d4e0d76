"""Backup phase: copies of the chat tables in a numbered schema, with a verified manifest."""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg
from psycopg import sql

from consolidation.core import crash, journal, sqlfiles
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.core.errors import FindingsError
from consolidation.core.names import BACKUP_TABLES, identifiers, table
from consolidation.phases.contract import Context, Finding, Option, Plan, Report, Result, Step

PHASE = "backup"
SCHEMA_PREFIX = "consolidation_backup_"


def _names(config: Config, schema: str, name: str | None = None) -> dict[str, sql.Identifier]:
    names = {
        "backup": sql.Identifier(schema),
        "manifest": sql.Identifier(schema, "manifest"),
        **identifiers(config),
    }
    if name:
        names["copy"] = sql.Identifier(schema, name)
        names["source"] = table(config, name)
    return names


def statements(config: Config, schema: str, replaced: list[str] | tuple[str, ...] = ()) -> list[Step]:
    """Every statement the backup runs, in order, with its exact text; first the drops of the
    REPLACED schemas killed runs left unrecorded."""
    steps = [
        Step(
            PHASE,
            f"drop_unfinished {old}",
            sqlfiles.render("backup/050_drop_schema.sql", _names(config, old)),
        )
        for old in replaced
    ]
    steps.append(
        Step(PHASE, "create_schema", sqlfiles.render("backup/010_create_schema.sql", _names(config, schema)))
    )
    steps.append(Step(PHASE, "manifest", sqlfiles.render("backup/030_manifest.sql", _names(config, schema))))
    for name in BACKUP_TABLES:
        steps.append(
            Step(
                PHASE,
                f"copy_{name}",
                sqlfiles.render("backup/020_copy_table.sql", _names(config, schema, name)),
            )
        )
    steps.append(
        Step(
            PHASE,
            "manifest_row",
            sqlfiles.render("backup/040_manifest_row.sql", _names(config, schema)),
            repeats="per table",
        )
    )
    return steps


def next_schema(conn: psycopg.Connection, config: Config) -> str:
    """The next backup's schema name: numbered, so the plan and its apply agree on it."""
    if journal.installed(conn, config):
        query = sqlfiles.render("backup/080_next_number.sql", identifiers(config))
    else:
        query = sqlfiles.load("backup/085_next_number_fresh.sql")
    number = conn.execute(query, {"prefix": SCHEMA_PREFIX}).fetchone()[0]
    return f"{SCHEMA_PREFIX}{number:03d}"


def unfinished(conn: psycopg.Connection, config: Config) -> list[str]:
    """Backup schemas whose run was killed before its record was finished: no backup lists them."""
    if not journal.installed(conn, config):
        return []
    rows = conn.execute(
        sqlfiles.render("backup/070_unfinished.sql", identifiers(config)), {"prefix": SCHEMA_PREFIX}
    )
    return [row[0] for row in rows]


def backups(conn: psycopg.Connection, config: Config) -> list[dict[str, Any]]:
    """Completed backups, newest first: record id, schema, whether it still exists, verified."""
    if not journal.installed(conn, config):
        return []
    rows = conn.execute(sqlfiles.render("backup/060_backups.sql", identifiers(config))).fetchall()
    return [
        {"record_id": r[0], "schema": r[1], "exists": r[2], "verified": r[3], "finished_at": r[4]}
        for r in rows
    ]


def latest_verified(conn: psycopg.Connection, config: Config) -> str | None:
    """The newest verified backup whose schema still exists."""
    for found in backups(conn, config):
        if found["exists"] and found["verified"]:
            return found["schema"]
    return None


def manifest_findings(conn: psycopg.Connection, schema: str) -> list[Finding]:
    """Discrepancies between the backup's copies and its manifest (none when intact)."""
    fix_output_settings(conn)
    findings = []
    manifest = conn.execute(
        sql.SQL("SELECT table_name, rows, source_digest FROM {}").format(sql.Identifier(schema, "manifest"))
    ).fetchall()
    for name, rows, digest in manifest:
        copy = table_checksum(conn, sql.Identifier(schema, name))
        if copy.digest != digest:
            findings.append(
                Finding(
                    "copy_differs",
                    f"{schema}.{name}",
                    f"{copy.rows} rows, digest {copy.digest}; the manifest says {rows}, {digest}",
                )
            )
    return findings


def _current_matches(conn: psycopg.Connection, config: Config, schema: str) -> bool:
    """Whether the backup in SCHEMA already holds the chat tables exactly as they are now."""
    recorded = dict(
        conn.execute(
            sql.SQL("SELECT table_name, source_digest FROM {}").format(sql.Identifier(schema, "manifest"))
        ).fetchall()
    )
    return set(recorded) == set(BACKUP_TABLES) and all(
        table_checksum(conn, table(config, name)).digest == recorded[name] for name in BACKUP_TABLES
    )


class Backup:
    """Snapshot the chat tables into a numbered schema with content checksums, verified."""

    name: ClassVar[str] = PHASE
    requires: ClassVar[tuple[str, ...]] = ()
    tables: ClassVar[tuple[str, ...]] = BACKUP_TABLES
    summary: ClassVar[str] = "Copy the chat tables into a numbered backup schema, with a verified manifest."
    options: ClassVar[tuple[Option, ...]] = ()

    def plan(self, ctx: Context, *, counts: bool = True) -> Plan:
        conn, config = ctx.conn, ctx.config
        fix_output_settings(conn)
        result = Plan(PHASE)
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            current = latest_verified(conn, config)
            if current and _current_matches(conn, config, current):
                result.notes.append(f"{current} already holds the chat tables as they are now: nothing to do")
                result.state = {"schema": current}
                return result
            schema = next_schema(conn, config)
            replaced = unfinished(conn, config)
            result.steps = statements(config, schema, replaced)
            result.state = {"schema": schema, "replaced": replaced}
            if counts:
                result.counts = {
                    f"{name} rows to copy": conn.execute(
                        sql.SQL("SELECT count(*) FROM {}").format(table(config, name))
                    ).fetchone()[0]
                    for name in BACKUP_TABLES
                }
        if replaced:
            result.notes.append(f"drops what killed runs left behind: {', '.join(replaced)}")
        return result

    def apply(self, ctx: Context, plan: Plan) -> Result:
        """Copy the tables in one snapshot, checksum source and copy in that snapshot, record it.

        The record names its schema before the copy commits, so a run killed before finishing its
        record leaves a schema the next plan finds and replaces in its own transaction.
        """
        conn, config, record = ctx.conn, ctx.config, ctx.record
        assert record is not None
        fix_output_settings(conn)
        schema, replaced = plan.state["schema"], plan.state["replaced"]
        record.details = {"schema": schema, "replaced": replaced}
        journal.save_details(conn, config, record)
        by_name = {step.name: step.sql for step in plan.steps}
        tables: dict[str, dict[str, Any]] = {}
        with conn.transaction():
            # One snapshot for copies and checksums: a live app writing meanwhile cannot make
            # the copy and the checksum it is compared with disagree.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            for old in replaced:
                conn.execute(by_name[f"drop_unfinished {old}"])
            conn.execute(by_name["create_schema"])
            conn.execute(by_name["manifest"])
            for name in BACKUP_TABLES:
                ctx.events.progress("backup", 0, total=len(BACKUP_TABLES))
                conn.execute(by_name[f"copy_{name}"])
                source = table_checksum(conn, table(config, name))
                copy = table_checksum(conn, sql.Identifier(schema, name))
                conn.execute(
                    by_name["manifest_row"],
                    {
                        "table_name": name,
                        "source": sqlfiles.quote(table(config, name)),
                        "rows": source.rows,
                        "source_digest": source.digest,
                        "copy_digest": copy.digest,
                    },
                )
                tables[name] = {"rows": source.rows, "digest": source.digest, "copy_digest": copy.digest}
                ctx.events.progress("backup", 1)
        crash.point("backup.committed")
        verified = all(entry["digest"] == entry["copy_digest"] for entry in tables.values())
        record.checksums = {name: entry["digest"] for name, entry in tables.items()}
        details = {"schema": schema, "verified": verified, "replaced": replaced}
        record.details = details
        if not verified:
            raise FindingsError(
                f"backup {schema} does not match its source",
                hint=f"inspect {schema}.manifest, then `consolidate backup rollback --apply` and retry",
            )
        return Result(PHASE, "apply", {name: entry["rows"] for name, entry in tables.items()}, details)

    def verify(self, ctx: Context) -> Report:
        report = Report(PHASE, counts={"copy_differs": 0, "no_backup": 0})
        schema = latest_verified(ctx.conn, ctx.config)
        if schema is None:
            report.counts["no_backup"] = 1
            report.findings.append(Finding("no_backup", "-", "no verified backup schema exists"))
            return report
        report.findings = manifest_findings(ctx.conn, schema)
        report.counts["copy_differs"] = len(report.findings)
        report.notes = {"backup": schema}
        return report

    def rollback_plan(self, ctx: Context) -> Plan:
        """Dropping the newest verified backup: everything in it was created by this phase."""
        target = latest_verified(ctx.conn, ctx.config)
        result = Plan(PHASE, "rollback", state={"schema": target})
        if target is not None:
            result.steps = [
                Step(
                    PHASE,
                    "drop_schema",
                    sqlfiles.render("backup/050_drop_schema.sql", _names(ctx.config, target)),
                )
            ]
        else:
            result.notes.append("no backup schema exists any more")
        return result

    def rollback(self, ctx: Context, plan: Plan) -> Result:
        for step in plan.steps:
            ctx.conn.execute(step.sql)
        schema = plan.state["schema"]
        if schema is not None:
            left = ctx.conn.execute("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", [schema])
            if left.fetchone()[0]:
                raise FindingsError(f"rollback of backup left schema {schema} in place")
        return Result(PHASE, "rollback", {"dropped schema": schema or "none"}, {"schema": schema})
