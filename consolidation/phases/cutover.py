"""Cut-over: close the legacy tables, forward the last captured changes, stop capture, verify."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from consolidation.core import journal, sqlfiles
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.db import contention_retrying
from consolidation.core.errors import FindingsError, PhaseOrderError, UsageError
from consolidation.core.names import identifiers
from consolidation.phases import Step, capture, merge, verify

PHASE = "cutover"
CLOSE = "cutover/010_close_legacy.sql"
STOP = "cutover/020_stop_capture.sql"
REOPEN = "cutover/090_reopen_legacy.sql"
API_ROLES = ("anon", "authenticated", "service_role")
MARKER = "legacy: cut over, service_role only"
# Test hook for the resume test: SIGKILL this process once the legacy tables are closed.
CRASH_ENV = "CONSOLIDATION_CRASH_IN_CUTOVER"


@dataclass
class CutoverPlan:
    steps: list[Step]
    capture: capture.CaptureState
    app_changes: list[str]


@dataclass
class CutoverResult:
    forwarded: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    report: verify.VerifyReport | None = None


def app_changes(config: Config) -> list[str]:
    """What the app must change when the legacy path closes, in the configured names."""
    t, c = config.tables, config.columns
    return [
        f"read and write {t.chat_messages} instead of {t.messages} and {t.voice_notes} "
        f"(both close to anon and authenticated)",
        f"{t.messages}.{c.messages.booking_id} and the {c.messages.sender_id}/{c.messages.recipient_id} pair "
        f"become {t.chat_messages}.{c.chat_messages.session_id} (a {t.chat_sessions} row: the booking's id, "
        "or the pair's derived id for a direct message)",
        f"{t.voice_notes}.{c.voice_notes.user_id} becomes {c.chat_messages.sender_id}, "
        f"{c.voice_notes.context_id} becomes {c.chat_messages.session_id}; "
        f"type '{config.voice_notes.message_type}' marks a voice message",
        f"message types map as {dict(config.type_map)}",
        f"files live in the private bucket {config.storage.target_bucket} at "
        "<session_id>/<sender_id>/<file>: fetch them through signed URLs (never public URLs)",
        f"order a session's messages by {c.chat_messages.created_at}, then id "
        "(the sequence the tool keeps follows that order)",
    ]


def statements(config: Config) -> list[Step]:
    names = identifiers(config)
    return [
        Step(PHASE, path.split("/")[-1].removesuffix(".sql"), sqlfiles.render(path, names))
        for path in (CLOSE, STOP)
    ]


def plan(conn: psycopg.Connection, config: Config) -> CutoverPlan:
    fix_output_settings(conn)
    journal_ready = journal.installed(conn, config)
    state = capture.state(conn, config) if journal_ready else capture.CaptureState(False, False, 0, 0)
    return CutoverPlan(statements(config), state, app_changes(config))


def _snapshot(conn: psycopg.Connection, config: Config) -> list[dict[str, Any]]:
    names = ("schema", "table", "rls", "force_rls", "table_privileges", "column_privileges")
    rows = conn.execute(
        sqlfiles.load("policies/inspect/tables.sql"),
        {
            "roles": list(API_ROLES),
            "schemas": [config.tables.schema_] * 2,
            "tables": [config.tables.messages, config.tables.voice_notes],
        },
    ).fetchall()
    return [dict(zip(names, row, strict=True)) for row in rows]


def _closed(conn: psycopg.Connection, config: Config) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_policies WHERE schemaname = %s AND tablename = ANY (%s) AND policyname = %s",
        [config.tables.schema_, [config.tables.messages, config.tables.voice_notes], MARKER],
    ).fetchone()
    return bool(row and row[0])


def _earlier_snapshot(conn: psycopg.Connection, config: Config) -> list[dict[str, Any]]:
    row = conn.execute(
        sql.SQL(
            "SELECT details -> 'snapshot' FROM {} WHERE phase = %s AND action = 'apply' "
            "AND details ? 'snapshot' ORDER BY id DESC LIMIT 1"
        ).format(identifiers(config)["tool.phase_records"]),
        [PHASE],
    ).fetchone()
    if row is None:
        raise UsageError(
            "the legacy tables are closed, but no cut-over recorded how they were before",
            hint="they were closed by something else (e.g. `policies apply --include-legacy`); "
            "re-open them by hand or with `consolidate policies rollback --apply`",
        )
    return row[0]


def _bounded(conn: psycopg.Connection, config: Config, text: str) -> int:
    """Run TEXT in one transaction with a bounded lock wait, retried; returns the attempts."""
    attempts = 0
    for attempt in contention_retrying(config.merge.max_retries):
        with attempt, conn.transaction():
            attempts += 1
            conn.execute("SELECT set_config('lock_timeout', %s, true)", [f"{config.merge.lock_timeout_ms}ms"])
            conn.execute(text)
    return attempts


def apply(
    conn: psycopg.Connection, config: Config, run: journal.Run, *, force_order: bool = False
) -> CutoverResult:
    """Close the legacy tables to the API roles, forward every captured change, stop capture,
    forward what was still in flight, and verify. CONN must be in autocommit mode.

    Raises FindingsError (after committing) when verify finds discrepancies.
    """
    fix_output_settings(conn)
    if journal.latest(conn, config, merge.PHASE) is None and not force_order:
        raise PhaseOrderError(
            "cut-over needs a completed merge (nothing has been merged or forwarded yet)",
            hint="run `consolidate merge --apply` first, or pass --force-order",
        )
    steps = statements(config)
    by_name = {step.name: step.sql for step in steps}
    result = CutoverResult()
    with journal.recorded_phase(conn, run, PHASE, "apply", [step.sql for step in steps]) as record:
        # What rollback puts back: the legacy tables as they are now, unless an interrupted
        # cut-over already closed them; then the snapshot that one took.
        record.details = {
            "snapshot": _earlier_snapshot(conn, config) if _closed(conn, config) else _snapshot(conn, config)
        }
        # Journaled before the tables close: a cut-over killed after closing them resumes from it.
        journal.save_details(conn, config, record)
        result.attempts += _bounded(conn, config, by_name["010_close_legacy"])
        if os.environ.get(CRASH_ENV) == "closed":
            os.kill(os.getpid(), signal.SIGKILL)
        forwarded = merge.forward(conn, config).run_counts
        result.attempts += _bounded(conn, config, by_name["020_stop_capture"])
        last = merge.forward(conn, config).run_counts
        result.forwarded = dict(forwarded + last)
        result.report = verify.run(conn, config)
        pending = capture.state(conn, config).pending
        record.counts = {
            "forwarded": result.forwarded,
            "pending_after": pending,
            "lock_attempts": result.attempts,
        }
        record.details = {**record.details, "verify": result.report.counts}
    if not result.report.clean or pending:
        raise FindingsError(
            f"cut-over done, but verify found discrepancies ({pending} captured changes not forwarded)",
            hint="run `consolidate verify` for the list; "
            "`consolidate cutover rollback --apply` re-opens the legacy path",
        )
    return result


def rollback(conn: psycopg.Connection, config: Config, run: journal.Run) -> int:
    """Re-open the legacy path: the legacy tables' privileges and row security as they were
    before the cut-over, and capture back on. Returns the statements run."""
    from consolidation.phases.policies import restore_table

    applied = journal.latest(conn, config, PHASE)
    if applied is None:
        raise UsageError("cut-over has not been applied", hint="nothing to roll back")
    names = identifiers(config)
    statements_run = [sqlfiles.render(REOPEN, names)]
    for table in applied["details"]["snapshot"]:
        statements_run.extend(restore_table(table))
    text = "\n".join(statements_run)
    with journal.recorded_phase(conn, run, PHASE, "rollback", [text]) as record:
        _bounded(conn, config, text)
        capture.install(conn, config)
        record.counts = {"statements": len(statements_run)}
    return len(statements_run)
