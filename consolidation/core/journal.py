"""The journal inside the database: runs, phase records, baselines, and one advisory lock per phase."""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.errors import DatabaseMismatch, PhaseBusyError
from consolidation.core.names import identifiers

EXPECTED_SYSTEM_IDENTIFIER_ENV = "CONSOLIDATION_EXPECTED_SYSTEM_IDENTIFIER"


def _render(config: Config, relative: str) -> str:
    return sqlfiles.render(relative, identifiers(config))


def sql_sha256(statements: list[str]) -> str:
    """The hash of the exact SQL a phase runs, in order, as recorded in the journal."""
    return hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def tool_version() -> str:
    try:
        return version("chat-consolidation")
    except PackageNotFoundError:
        return "unknown"


def installed(conn: psycopg.Connection, config: Config) -> bool:
    """Whether the tool's schema exists (plan and verify never create it)."""
    found = conn.execute(
        sqlfiles.load("journal/130_installed.sql"),
        {"records": sqlfiles.quote(identifiers(config)["tool.phase_records"])},
    ).fetchone()
    return bool(found and found[0])


def install(conn: psycopg.Connection, config: Config) -> None:
    """Create the tool's schema if needed; idempotent, one transaction."""
    with conn.transaction():
        # Two operators installing at once would race on CREATE ... IF NOT EXISTS.
        conn.execute(sqlfiles.load("journal/140_install_lock.sql"), {"key": _key(config.journal.schema_)})
        conn.execute(_render(config, "journal/010_schema.sql"))
        # The storage journal lives in the same schema, so merge's verification can always
        # see through the storage phase's rewrites (storage_original_text / _json).
        conn.execute(_render(config, "storage/010_schema.sql"))


def _key(text: str) -> int:
    # A stable signed 32-bit key (hashtext's output is not promised stable across versions).
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big", signed=True)


def system_identifier(conn: psycopg.Connection) -> str:
    """The database cluster's system identifier (reading pg_control_system() writes nothing)."""
    row = conn.execute(sqlfiles.load("journal/150_system_identifier.sql")).fetchone()
    assert row is not None
    return row[0]


def check_database(conn: psycopg.Connection, config: Config) -> str:
    """Refuse, before any write, a database other than the pinned one or the one the journal
    was written on (a restored dump carries its journal along); return the system identifier."""
    actual = system_identifier(conn)
    pins = {
        "database.expected_system_identifier": config.database.expected_system_identifier,
        EXPECTED_SYSTEM_IDENTIFIER_ENV: os.environ.get(EXPECTED_SYSTEM_IDENTIFIER_ENV),
    }
    for source, expected in pins.items():
        if expected and expected.strip() != actual:
            raise DatabaseMismatch(
                f"this database's system identifier is {actual}, but {source} pins {expected.strip()}",
                hint="point --database-url at the intended database, or correct the pin",
            )
    if not installed(conn, config):
        return actual
    foreign = conn.execute(
        _render(config, "journal/160_foreign_runs.sql"),
        {"known": [actual, *config.database.adopt_journal_from]},
    ).fetchall()
    if foreign:
        origin, runs, last = foreign[0]
        schema = config.journal.schema_
        raise DatabaseMismatch(
            f"the journal in schema {schema} was written on another database (system identifier "
            f"{origin}: {runs} run(s), the last at {last:%Y-%m-%d %H:%M:%S%z}); this database is {actual}, "
            "so it is likely a restored copy, and applying here would continue that database's phases",
            hint=f"run against the database the journal belongs to; or, to continue the copy here on "
            f'purpose, set database.adopt_journal_from = ["{origin}"] in the configuration',
        )
    return actual


@dataclass
class Run:
    """One invocation of the tool that writes to the database."""

    id: int
    system_identifier: str
    config: Config


def start_run(conn: psycopg.Connection, config: Config, command: str) -> Run:
    """Check it is the intended database, install the journal if needed, and record who runs
    what, where, with which config."""
    check_database(conn, config)
    install(conn, config)
    row = conn.execute(
        _render(config, "journal/020_run.sql"),
        {
            "command": command,
            "os_user": os_user(),
            "client_host": socket.gethostname(),
            "config_fingerprint": config.fingerprint(),
            "tool_version": tool_version(),
        },
    ).fetchone()
    assert row is not None
    return Run(id=row[0], system_identifier=row[1], config=config)


@dataclass
class PhaseRecord:
    """A phase in progress; the phase fills in counts, checksums and details before it ends."""

    id: int
    phase: str
    action: str
    counts: dict[str, Any] = field(default_factory=dict)
    checksums: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@contextmanager
def phase_lock(conn: psycopg.Connection, config: Config, phase: str) -> Iterator[None]:
    """Hold the phase's session-level advisory lock, or raise PhaseBusyError naming the holder."""
    classid, objid = _key(config.journal.schema_), _key(phase)
    keys = {"classid": classid, "objid": objid}
    acquired = conn.execute(sqlfiles.load("journal/170_phase_lock.sql"), keys).fetchone()
    if not (acquired and acquired[0]):
        holder = conn.execute(
            sqlfiles.load("journal/060_lock_holder.sql"),
            {"classid": classid & 0xFFFFFFFF, "objid": objid & 0xFFFFFFFF},
        ).fetchone()
        who = (
            f"pid {holder[0]}, user {holder[1]}, application {holder[2]!r}, "
            f"from {holder[3] or 'local socket'}, connected {holder[4]:%Y-%m-%d %H:%M:%S%z}"
            if holder
            else "another session"
        )
        raise PhaseBusyError(
            f"phase {phase} is running elsewhere ({who})",
            hint="wait for it to finish; if that session is stale, end it with pg_terminate_backend(pid)",
        )
    try:
        yield
    finally:
        if not conn.closed:
            conn.execute(sqlfiles.load("journal/180_phase_unlock.sql"), keys)


def forwarding_lock_keys(config: Config) -> dict[str, int]:
    """The transaction-level advisory lock every forwarding transaction takes (merge, sync,
    cut-over): one forwarder at a time. Its key is no phase's, so it never waits on a phase lock."""
    return {"classid": _key(config.journal.schema_), "objid": _key("forwarding captured changes")}


def mark_interrupted(conn: psycopg.Connection, config: Config, phase: str) -> list[int]:
    """Mark PHASE's records still 'running' as interrupted; call only while holding its lock,
    when no live run can own them. Returns their ids."""
    if not installed(conn, config):
        return []
    rows = conn.execute(_render(config, "journal/120_mark_interrupted.sql"), {"phase": phase})
    return [row[0] for row in rows.fetchall()]


@contextmanager
def recorded_phase(
    conn: psycopg.Connection, run: Run, phase: str, action: str, plan_sha256: str
) -> Iterator[PhaseRecord]:
    """Record PHASE as running, and as completed or failed when the block ends.

    The caller holds the phase's lock (phase_lock). CONN must be in autocommit mode: the
    record commits on its own, so a failed phase leaves its trace, and the phase's own
    transactions run inside the block. PLAN_SHA256 is the hash of the steps the phase runs, as
    the preview showed them.
    """
    config = run.config
    conn.execute("SELECT set_config('application_name', %s, false)", [f"consolidate {phase} ({os_user()})"])
    row = conn.execute(
        _render(config, "journal/030_phase_start.sql"),
        {
            "run_id": run.id,
            "phase": phase,
            "action": action,
            "os_user": os_user(),
            "config_fingerprint": config.fingerprint(),
            "sql_sha256": plan_sha256,
        },
    ).fetchone()
    assert row is not None
    record = PhaseRecord(id=row[0], phase=phase, action=action)
    try:
        yield record
    except BaseException as exc:
        if not conn.closed and not conn.broken:
            _finish(conn, config, record, "failed", str(exc) or type(exc).__name__)
        raise
    _finish(conn, config, record, "completed", None)


def record_verdict(
    conn: psycopg.Connection, run: Run, phase: str, findings: dict[str, int], details: dict[str, Any]
) -> int:
    """Journal a verification of PHASE: FINDINGS per check (all zero when clean)."""
    with recorded_phase(conn, run, phase, "verify", sql_sha256([])) as record:
        record.counts = dict(findings)
        record.details = details
    return record.id


@dataclass(frozen=True)
class PhaseState:
    """Where a phase stands, by the one rule every order guard uses (journal/110_phase_state.sql)."""

    phase: str
    applied_record: int | None = None
    # "apply failed", "rollback interrupted"...: a run newer than the last completed one that
    # did not finish.
    unfinished: str | None = None
    verdict_record: int | None = None
    # Findings per check of the newest verification of the applied work; None: never verified.
    findings: dict[str, int] | None = None

    @property
    def applied(self) -> bool:
        return self.applied_record is not None

    @property
    def verified(self) -> bool:
        return (
            self.applied
            and self.unfinished is None
            and self.findings is not None
            and not any(self.findings.values())
        )

    @property
    def finding_total(self) -> int:
        return sum((self.findings or {}).values())


def phase_state(conn: psycopg.Connection, config: Config, phase: str) -> PhaseState:
    """PHASE's standing in the journal (nothing applied when there is no journal)."""
    if not installed(conn, config):
        return PhaseState(phase)
    row = conn.execute(_render(config, "journal/110_phase_state.sql"), {"phase": phase}).fetchone()
    assert row is not None
    applied, unfinished, verdict, findings = row
    return PhaseState(phase, applied, unfinished, verdict, findings)


def save_details(conn: psycopg.Connection, config: Config, record: PhaseRecord) -> None:
    """Commit RECORD's details while it still runs, so a re-run after a kill finds them."""
    conn.execute(
        _render(config, "journal/090_phase_details.sql"), {"id": record.id, "details": Jsonb(record.details)}
    )


def unfinished(conn: psycopg.Connection, config: Config, record: PhaseRecord) -> list[dict[str, Any]]:
    """The records of RECORD's phase left running or failed since its last completed one, newest
    first (id, action, status, details): the runs a re-run picks up from."""
    cursor = conn.execute(
        _render(config, "journal/100_unfinished.sql"), {"phase": record.phase, "before": record.id}
    )
    names = [column.name for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _finish(
    conn: psycopg.Connection, config: Config, record: PhaseRecord, status: str, error: str | None
) -> None:
    conn.execute(
        _render(config, "journal/040_phase_finish.sql"),
        {
            "id": record.id,
            "status": status,
            "counts": Jsonb(record.counts),
            "checksums": Jsonb(record.checksums),
            "details": Jsonb(record.details),
            "error": error,
        },
    )


def latest(
    conn: psycopg.Connection, config: Config, phase: str, action: str = "apply", status: str = "completed"
) -> dict[str, Any] | None:
    """The newest record of PHASE/ACTION in STATUS, as a dict, or None."""
    if not installed(conn, config):
        return None
    cursor = conn.execute(
        _render(config, "journal/050_latest.sql"), {"phase": phase, "action": action, "status": status}
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([column.name for column in cursor.description or []], row, strict=True))


def record_baseline(
    conn: psycopg.Connection, config: Config, record: PhaseRecord, checksums: dict[str, Any]
) -> dict[str, Any]:
    """Store the pre-phase checksums once; return the baseline in force (the first one)."""
    conn.execute(
        _render(config, "journal/070_baseline.sql"),
        {"phase": record.phase, "record_id": record.id, "checksums": Jsonb(checksums)},
    )
    return baseline(conn, config, record.phase) or checksums


def baseline(conn: psycopg.Connection, config: Config, phase: str) -> dict[str, Any] | None:
    if not installed(conn, config):
        return None
    row = conn.execute(_render(config, "journal/190_baseline.sql"), {"phase": phase}).fetchone()
    return row[0] if row else None


def baseline_fingerprint(conn: psycopg.Connection, config: Config, phase: str) -> str | None:
    """The config fingerprint PHASE was first applied with, while its baseline stands."""
    if not installed(conn, config):
        return None
    row = conn.execute(_render(config, "journal/080_baseline_fingerprint.sql"), {"phase": phase}).fetchone()
    return row[0] if row else None


def clear_baseline(conn: psycopg.Connection, config: Config, phase: str) -> None:
    conn.execute(_render(config, "journal/200_clear_baseline.sql"), {"phase": phase})
