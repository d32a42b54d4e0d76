"""Backup phase: copies of the chat tables in a timestamped schema, with a verified manifest."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from consolidation.core import journal, sqlfiles
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.core.errors import FindingsError, PhaseOrderError, UsageError
from consolidation.core.names import BACKUP_TABLES, identifiers, table
from consolidation.phases import Step

PHASE = "backup"
SCHEMA_PREFIX = "consolidation_backup_"
CRASH_ENV = "CONSOLIDATION_CRASH_IN_BACKUP"


@dataclass(frozen=True)
class BackupResult:
    schema: str
    tables: dict[str, dict[str, Any]]
    verified: bool
    replaced: list[str] = field(default_factory=list)


def schema_name(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{SCHEMA_PREFIX}{moment:%Y%m%dT%H%M%SZ}"


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


def statements(config: Config, schema: str, replaced: Sequence[str] = ()) -> list[Step]:
    """Every statement the backup runs, in order, with its exact text; first the drops of the
    REPLACED schemas killed runs left unrecorded."""
    steps = [
        Step(PHASE, f"drop_unfinished {old}",
             sqlfiles.render("backup/050_drop_schema.sql", _names(config, old)))
        for old in replaced
    ]
    steps.append(
        Step(PHASE, "create_schema", sqlfiles.render("backup/010_create_schema.sql", _names(config, schema)))
    )
    for name in BACKUP_TABLES:
        steps.append(
            Step(
                PHASE,
                f"copy_{name}",
                sqlfiles.render("backup/020_copy_table.sql", _names(config, schema, name)),
            )
        )
    steps.append(Step(PHASE, "manifest", sqlfiles.render("backup/030_manifest.sql", _names(config, schema))))
    steps.append(
        Step(PHASE, "manifest_row", sqlfiles.render("backup/040_manifest_row.sql", _names(config, schema)))
    )
    return steps


def _free_schema(conn: psycopg.Connection) -> str:
    base = schema_name()
    candidate, suffix = base, 1
    while conn.execute("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", [candidate]).fetchone()[
        0
    ]:
        suffix += 1
        candidate = f"{base}_{suffix}"
    return candidate


def unfinished(conn: psycopg.Connection, config: Config) -> list[str]:
    """Backup schemas whose run was killed before its record was finished: no backup lists them."""
    if not journal.installed(conn, config):
        return []
    rows = conn.execute(
        sqlfiles.render("backup/070_unfinished.sql", identifiers(config)), {"prefix": SCHEMA_PREFIX}
    )
    return [row[0] for row in rows]


def _crash_hook(point: str) -> None:
    """Test hook: CONSOLIDATION_CRASH_IN_BACKUP=<point> SIGKILLs apply there."""
    if os.environ.get(CRASH_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def apply(conn: psycopg.Connection, config: Config, run: journal.Run) -> BackupResult:
    """Copy the tables in one snapshot, checksum source and copy in that snapshot, record it.

    The record names its schema before the copy commits, so a run killed before finishing its
    record leaves a schema the next run finds and replaces in its own transaction.
    """
    fix_output_settings(conn)
    schema = _free_schema(conn)
    seen = unfinished(conn, config)
    steps = statements(config, schema, seen)
    with journal.recorded_phase(conn, run, PHASE, "apply", [step.sql for step in steps]) as record:
        # Under the phase's lock no other run is alive: a schema still unfinished now is a dead run's.
        replaced = [old for old in unfinished(conn, config) if old in seen]
        record.details = {"schema": schema, "replaced": replaced}
        journal.save_details(conn, config, record)
        by_name = {step.name: step.sql for step in steps}
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
        _crash_hook("committed")
        verified = all(entry["digest"] == entry["copy_digest"] for entry in tables.values())
        record.counts = {name: entry["rows"] for name, entry in tables.items()}
        record.checksums = {name: entry["digest"] for name, entry in tables.items()}
        record.details = {"schema": schema, "verified": verified, "replaced": replaced}
        if not verified:
            raise FindingsError(
                f"backup {schema} does not match its source",
                hint=f"inspect {schema}.manifest, then `consolidate rollback --phase backup` and retry",
            )
    return BackupResult(schema=schema, tables=tables, verified=verified, replaced=replaced)


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
    for backup in backups(conn, config):
        if backup["exists"] and backup["verified"]:
            return backup["schema"]
    return None


def require_verified(conn: psycopg.Connection, config: Config, phase: str) -> str | None:
    found = latest_verified(conn, config)
    if found is None:
        raise PhaseOrderError(
            f"{phase} needs a verified backup and there is none",
            hint="run `consolidate backup --apply` first (or pass --force-order to run without one)",
        )
    return found


def verify(conn: psycopg.Connection, config: Config, schema: str) -> list[str]:
    """Discrepancies between the backup's copies and its manifest (empty when intact)."""
    fix_output_settings(conn)
    findings = []
    manifest = conn.execute(
        sql.SQL("SELECT table_name, rows, source_digest FROM {}").format(sql.Identifier(schema, "manifest"))
    ).fetchall()
    for name, rows, digest in manifest:
        copy = table_checksum(conn, sql.Identifier(schema, name))
        if copy.digest != digest:
            findings.append(
                f"{schema}.{name}: {copy.rows} rows, digest {copy.digest}; manifest says {rows}, {digest}"
            )
    return findings


def rollback_statements(config: Config, schema: str) -> list[Step]:
    """The exact SQL that rolls back the backup in SCHEMA."""
    return [Step(PHASE, "drop_schema", sqlfiles.render("backup/050_drop_schema.sql", _names(config, schema)))]


def rollback_plan(conn: psycopg.Connection, config: Config) -> list[Step]:
    """What `rollback --phase backup` would run now: dropping the newest verified backup."""
    target = latest_verified(conn, config)
    if target is None:
        raise UsageError("there is no backup to roll back", hint="`consolidate backup --apply` takes one")
    return rollback_statements(config, target)


def rollback(
    conn: psycopg.Connection,
    config: Config,
    run: journal.Run,
    *,
    schema: str | None = None,
    force_order: bool = False,
) -> str:
    """Drop a backup schema (the newest verified one by default); refuse while merge relies on it."""
    target = schema or latest_verified(conn, config)
    if target is None or not target.startswith(SCHEMA_PREFIX):
        raise UsageError("there is no backup to roll back", hint="`consolidate backup --apply` takes one")
    others = [
        b["schema"] for b in backups(conn, config) if b["exists"] and b["verified"] and b["schema"] != target
    ]
    if journal.baseline(conn, config, "merge") is not None and not others and not force_order:
        raise PhaseOrderError(
            f"merge is applied and {target} is its only verified backup",
            hint="run `consolidate rollback --phase merge` first (or pass --force-order to drop it anyway)",
        )
    step = rollback_statements(config, target)[0]
    with journal.recorded_phase(conn, run, PHASE, "rollback", [step.sql]) as record:
        conn.execute(step.sql)
        record.details = {"schema": target}
    return target
