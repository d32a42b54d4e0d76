"""Plan: what every phase would do on this database, as counts and the exact SQL, writing nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from consolidation.core import journal, sqlfiles
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.names import identifiers
from consolidation.phases import Step, backup, merge, verify


@dataclass
class Plan:
    """Per phase: the counts it would touch, and every statement it would run."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def write(self, directory: Path) -> list[Path]:
        """One reviewable .sql file per step, numbered in run order."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for number, step in enumerate(self.steps, start=1):
            path = directory / f"{number:03d}_{step.file_name}"
            path.write_text(
                f"-- phase {step.phase}, step {step.name}\n{step.sql.rstrip()}\n", encoding="utf-8"
            )
            written.append(path)
        return written


def _classification(config: Config) -> sql.Composed:
    names = identifiers(config)
    return sql.SQL(
        "WITH merge_source AS (\n{}\n),\nlink_candidates AS (\n{}\n),\nclassified AS (\n{}\n)\n"
        "SELECT c.source_table, c.fate, coalesce(c.reason, ''), count(*)\n"
        "FROM classified AS c GROUP BY 1, 2, 3\n"
        "UNION ALL\n"
        "SELECT '', 'sessions', '', count(DISTINCT c.session_id) FILTER (WHERE c.fate = 'migrated' "
        "AND NOT c.session_exists) FROM classified AS c\nORDER BY 1, 2, 3"
    ).format(
        sql.SQL(sqlfiles.render("merge/300_plan_source.sql", names)),
        sql.SQL(sqlfiles.render("merge/005_link_candidates.sql", names)),
        sql.SQL(merge.classification(config, merge.TWINS_BY_CANDIDATES)),
    )


def build(conn: psycopg.Connection, config: Config) -> Plan:
    """Inspect the live data in one read-only snapshot and return the plan."""
    fix_output_settings(conn)
    result = Plan()
    result.steps = [
        *backup.statements(config, backup.schema_name()),
        *merge.statements(config),
        *verify.statements(config),
        *merge.rollback_statements(config),
    ]
    with conn.transaction():
        # READ ONLY: the server itself refuses any write the plan might attempt.
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        tables = {
            name: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(identifiers(config)[name])
            ).fetchone()[0]
            for name in ("messages", "voice_notes", "chat_sessions", "chat_messages")
        }
        result.counts["backup"] = {f"{name} rows to copy": rows for name, rows in tables.items()}
        recorded = (
            journal.installed(conn, config)
            and conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(identifiers(config)["tool.provenance"])
            ).fetchone()[0]
        )
        merge_counts: dict[str, int] = {}
        if recorded:
            done = conn.execute(sqlfiles.render("verify/010_fate_totals.sql", identifiers(config))).fetchall()
            merge_counts = {f"already {key}": count for key, count in done}
            merge_counts["source rows without a fate yet"] = merge.remaining(conn, config)
            result.notes.append("merge has run before: counts are what it recorded, plus rows still pending")
        else:
            rows = conn.execute(_classification(config), merge.mapping_parameters(config)).fetchall()
            for source, fate, reason, count in rows:
                if fate == "sessions":
                    merge_counts["sessions to create"] = count
                    continue
                verb = {
                    "migrated": "to migrate",
                    "linked": "to link (already dual-written)",
                    "quarantined": "to quarantine",
                    "excluded": "to exclude",
                }[fate]
                merge_counts[f"{source} {verb}" + (f": {reason}" if reason else "")] = count
        result.counts["merge"] = merge_counts
        if backup.latest_verified(conn, config) is None:
            result.notes.append("no verified backup yet: run `consolidate backup --apply` before merge")
    return result
