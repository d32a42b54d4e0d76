"""Merge's verification: prove row by row that every source row has one fate and the result is right."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from consolidation.core import journal, sqlfiles
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.errors import PhaseOrderError
from consolidation.core.names import identifiers
from consolidation.phases.contract import Step
from consolidation.storage_migration.reachability import chat_reference_findings

PHASE = "verify"
CHECKS = {
    "unfated": "verify/020_unfated.sql",
    "multiple_fates": "verify/030_multiple_fates.sql",
    "target_exists": "verify/040_target_exists.sql",
    "source_unchanged": "verify/050_source_unchanged.sql",
    "mapping": "verify/060_mapping.sql",
    "orphans": "verify/070_orphans.sql",
    "sequence": "verify/080_sequence.sql",
    "sessions": "verify/090_sessions.sql",
    "participants": "verify/095_participants.sql",
    "duplicates": "verify/100_duplicates.sql",
    "written_back": "verify/105_written_back.sql",
}
# The provenance batch of legacy rows written back from chat_messages (sync's way back).
WRITE_BACK_BATCH = -2
# Checked in Python over the chat's references (file columns and strings inside metadata): each
# one into the target bucket names an object there, in a form that can fetch from it.
REFERENCES = "references"


@dataclass(frozen=True)
class Finding:
    check: str
    table: str
    key: str
    detail: str


@dataclass
class VerifyReport:
    """Per check, how many discrepancies it found, and the first few of each."""

    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    # Source rows whose captured changes wait to be forwarded (pending, not discrepancies), and
    # how long the oldest of those changes has waited.
    pending: int = 0
    oldest_pending_seconds: float | None = None
    # The new app's chat messages whose changes wait to be written back, and the legacy rows
    # written back so far.
    write_back_pending: int = 0
    written_back: int = 0

    @property
    def clean(self) -> bool:
        return not any(self.counts.values())


def statements(config: Config) -> list[Step]:
    names = identifiers(config)
    return [Step(PHASE, name, sqlfiles.render(path, names)) for name, path in CHECKS.items()]


def _pending(conn: psycopg.Connection, config: Config) -> tuple[set[str], int, float | None]:
    """The keys (source ids and their chat message ids) of rows whose changes wait to be
    forwarded, how many source rows they are, and the oldest change's wait in seconds."""
    keys: set[str] = set()
    sources: set[str] = set()
    oldest = None
    for source_id, chat_message_id, waited in conn.execute(
        sqlfiles.render("verify/110_pending.sql", identifiers(config))
    ):
        keys.add(source_id)
        sources.add(source_id)
        if chat_message_id:
            keys.add(chat_message_id)
        oldest = waited if oldest is None else max(oldest, waited)
    return keys, len(sources), oldest


def run(conn: psycopg.Connection, config: Config, *, shown_per_check: int = 20) -> VerifyReport:
    """Run every check in one read-only snapshot; the report is clean when none finds anything.

    Raises PhaseOrderError when merge has not run (no merge baseline in the journal).
    """
    report = VerifyReport()
    fix_output_settings(conn)
    if journal.baseline(conn, config, "merge") is None:
        # Every source row would be reported as unfated: say what is wrong instead.
        raise PhaseOrderError(
            "merge has not run here (or was rolled back): there is no merge to verify",
            hint="run `consolidate merge --apply` (after `consolidate backup --apply`), then verify",
        )
    # merge imports this module for its verify; its classification parameters come the other way.
    from consolidation.phases.merge import mapping_parameters

    parameters = {**mapping_parameters(config), "write_back_batch": WRITE_BACK_BATCH}
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        pending, report.pending, report.oldest_pending_seconds = _pending(conn, config)
        names = identifiers(config)
        going_back: set[str] = set()
        for chat_message_id, session_id in conn.execute(
            sqlfiles.render("verify/120_write_back_pending.sql", names)
        ):
            going_back.add(chat_message_id)
            if session_id:
                pending.add(session_id)
        report.write_back_pending = len(going_back)
        pending |= going_back
        report.written_back = conn.execute(
            sqlfiles.render("verify/125_written_back_count.sql", names),
            {"write_back_batch": WRITE_BACK_BATCH},
        ).fetchone()[0]
        for step in statements(config):
            count = 0
            # A named cursor streams the rows: memory stays flat however many findings there are.
            with conn.cursor(name=f"verify_{step.name}") as cursor:
                cursor.execute(step.sql, parameters if "%(" in step.sql else None)
                for table_name, key, detail in cursor:
                    if str(key) in pending:
                        continue
                    count += 1
                    if count <= shown_per_check:
                        report.findings.append(Finding(step.name, table_name, key, detail))
            report.counts[step.name] = count
        count = 0
        for table_name, key, detail in chat_reference_findings(conn, config):
            count += 1
            if count <= shown_per_check:
                report.findings.append(Finding(REFERENCES, table_name, key, detail))
        report.counts[REFERENCES] = count
        totals = sqlfiles.render("verify/010_fate_totals.sql", identifiers(config))
        report.totals = {key: value for key, value in conn.execute(totals).fetchall()}
    return report
