"""Merge phase: messages and voice notes into chat_messages, batch by batch, every row one fate."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from consolidation.core import crash, db, journal, sqlfiles
from consolidation.core.checksums import chat_checksums, fix_output_settings
from consolidation.core.config import Config
from consolidation.core.ddl import BoundedExecutor
from consolidation.core.errors import FindingsError, UsageError
from consolidation.core.names import CHAT_TABLES, identifiers, table
from consolidation.phases import backup, capture, verify
from consolidation.phases.contract import Context, Finding, Option, Plan, Report, Result, Step

PHASE = "merge"
SOURCES = ("messages", "voice_notes")
# The tables merge writes, so the only ones its rollback restores and proves: the sources are
# only read (verify proves them unchanged against each row's source checksum).
MERGED_TABLES = ("chat_sessions", "chat_messages")
NIL = uuid.UUID(int=0)
# The inclusive upper bound of the last part of a source's key range.
TOP = uuid.UUID(int=(1 << 128) - 1)
TWINS_BY_CANDIDATES = "022_twins_candidates"
TWINS_BY_PLAN = "023_twins_planned"
# The batch number forwarded rows are recorded under in the ledgers (keyset batches count from 1).
FORWARD_BATCH = -1

SELECT_FILES = {
    "messages": "merge/010_select_messages.sql",
    "voice_notes": "merge/011_select_voice_notes.sql",
}
# The alias each source's SELECT_FILES give its table: the WHERE clauses below follow them.
ALIASES = {"messages": "m", "voice_notes": "v"}
# Which rows a batch reads, one file for either source: the next keyset range, the rows a part's
# sweep finds without a fate, the rows whose changes were captured; and the rows the link plan
# decides (019), classified in one statement over both sources.
KEYSET_FILE = "merge/015_keyset.sql"
SWEEP_FILE = "merge/016_sweep.sql"
CAPTURED_FILE = "merge/017_captured.sql"
LINK_SCOPE_FILE = "merge/012_link_scope.sql"
BATCH_FILES = (
    "merge/030_create_sessions.sql",
    "merge/060_insert_messages.sql",
    "merge/070_record_provenance.sql",
    "merge/071_record_quarantine.sql",
    "merge/072_record_excluded.sql",
)
# Forwarding captured changes: after 050_take and the classification of the rows' current state
# (021), in this order (a row's old fate is cleared before its new one is recorded).
FORWARD_FILES = (
    "capture/064_checksum_through_storage.sql",
    "merge/025_batch_counts.sql",
    "capture/060_clear_provenance.sql",
    "capture/062_clear_quarantine.sql",
    "capture/063_clear_excluded.sql",
    "merge/030_create_sessions.sql",
    "capture/065_upsert_messages.sql",
    "merge/070_record_provenance.sql",
    "merge/071_record_quarantine.sql",
    "merge/072_record_excluded.sql",
    "merge/073_drop_linked_candidates.sql",
    "capture/068_follow_written_back.sql",
    "capture/069_refresh_linked.sql",
    "capture/080_mark_forwarded.sql",
)
# Taken first in every forwarding transaction: one forwarder at a time (merge, sync, cut-over).
FORWARD_LOCK_FILE = "capture/045_forward_lock.sql"
# A row a batch fails on by itself, and its keyset position; a forwarded row that does, likewise.
FIRST_ROW_FILE = "merge/075_first_row.sql"
FAILED_ROW_FILES = ("merge/076_quarantine_failed.sql", "merge/077_high_water_at.sql")
FAILED_FORWARD_FILES = (
    "capture/070_clear_failed.sql",
    "capture/062_clear_quarantine.sql",
    "capture/063_clear_excluded.sql",
    "capture/071_quarantine_failed.sql",
    "capture/080_mark_forwarded.sql",
)
# Once per run, after every batch: sequence the sessions merge wrote into and bring their
# last_message_at up to date (a session spread over many batches is written once).
SEQUENCE_FILES = (
    "merge/100_session_rollup.sql",
    "merge/110_record_prior_sessions.sql",
    "merge/120_sequence_store.sql",
    "merge/125_sequence_drop_empty.sql",
    "merge/130_update_sessions.sql",
)


def _step_name(relative: str) -> str:
    return relative.split("/")[-1].removesuffix(".sql")


def candidates(config: Config) -> str:
    """The run's snapshot of chat messages that legacy rows may already have been written as."""
    names = identifiers(config)
    # Rows merge wrote or already linked are nobody's twin: left out as the table is made (an
    # anti-join), not deleted after, which would leave the table as large as chat_messages.
    return (
        sql.SQL(
            "DROP TABLE IF EXISTS link_candidates;\nCREATE TEMP TABLE link_candidates AS\n"
            "SELECT lc.* FROM (\n{}\n) AS lc\n"
            "WHERE NOT EXISTS (SELECT 1 FROM {} AS p WHERE p.chat_message_id = lc.chat_message_id);\n{}"
        )
        .format(
            sql.SQL(sqlfiles.render("merge/005_link_candidates.sql", names).rstrip()),
            names["tool.provenance"],
            sql.SQL(sqlfiles.render("merge/006_link_candidates_index.sql", names)),
        )
        .as_string(None)
    )


def classification(config: Config, twins: str) -> str:
    """The classification query over merge_source (020, then TWINS: 022 matches the run's link
    candidates, 023 reads the link plan, then 024's classified rows)."""
    names = identifiers(config)
    parts = [sqlfiles.render(f"merge/{name}.sql", names).rstrip() for name in ("020_classify", twins)]
    return f"WITH {parts[0]},\n{parts[1]}\n{sqlfiles.render('merge/024_classified.sql', names).rstrip()}"


def classify_statement(config: Config, source_select: str, twins: str) -> str:
    """SOURCE_SELECT's rows classified into the transaction's merge_batch table."""
    return (
        sql.SQL(
            "CREATE TEMP TABLE merge_batch ON COMMIT DROP AS\n"
            "WITH merge_source AS (\n{}\n)\nSELECT * FROM (\n{}\n) AS classified"
        )
        .format(sql.SQL(source_select.rstrip()), sql.SQL(classification(config, twins)))
        .as_string(None)
    )


def _source_names(config: Config, source: str) -> dict[str, sql.Identifier]:
    """The identifiers, plus SOURCE's table, alias, key, sender and time columns and its logical
    name as :"source", :"alias", :"source.id", :"source.sender", :"source.created_at" and
    :'source_table' (for the files either source runs)."""
    names = identifiers(config)
    sender = "sender_id" if source == "messages" else "user_id"
    return {
        **names,
        "source": names[source],
        "alias": sql.Identifier(ALIASES[source]),
        "source.id": names[f"{source}.id"],
        "source.sender": names[f"{source}.{sender}"],
        "source.created_at": names[f"{source}.created_at"],
        "source_table": sql.Identifier(source),
    }


def statements(config: Config) -> list[Step]:
    """Every statement merge runs, in order, with its exact text (a batch's steps run per batch)."""
    names = identifiers(config)

    def render(relative: str) -> str:
        return sqlfiles.render(relative, names)

    def per_source(relative: str, source: str) -> str:
        return sqlfiles.render(relative, _source_names(config, source))

    # Once per run, before the batches: cut each source into parts, then decide which rows link
    # to a chat message the app already wrote (over both sources at once, so the plan is global).
    steps = [
        Step(
            PHASE,
            f"014_parts_{source}",
            sqlfiles.render("merge/014_parts.sql", _source_names(config, source)),
        )
        for source in SOURCES
    ]
    steps.append(Step(PHASE, "005_link_candidates", candidates(config)))
    steps.append(Step(PHASE, "007_unplanned_candidates", render("merge/007_unplanned_candidates.sql")))
    scope = "\nUNION ALL\n".join(
        f"({render(SELECT_FILES[source]).rstrip()}\n{per_source(LINK_SCOPE_FILE, source).rstrip()})"
        for source in SOURCES
    )
    steps.append(Step(PHASE, "018_link_scope", classify_statement(config, scope, TWINS_BY_CANDIDATES)))
    steps.append(Step(PHASE, "019_link_plan", render("merge/019_link_plan.sql")))
    # A batch is read and classified in one statement: the source rows are never copied into a
    # table of their own, only the classified batch is.
    steps += [
        Step(
            PHASE,
            f"020_{kind}_{source}",
            classify_statement(config, render(path) + per_source(where, source), TWINS_BY_PLAN),
        )
        for kind, where in (("classify", KEYSET_FILE), ("sweep", SWEEP_FILE))
        for source, path in SELECT_FILES.items()
    ]
    steps += [
        Step(PHASE, _step_name(path), render(path), repeats="per batch")
        for path in ("merge/025_batch_counts.sql", *BATCH_FILES)
    ]
    # A batch that fails is halved until the row it fails on is alone; that row is quarantined.
    steps += [
        Step(
            PHASE,
            f"075_first_row_{kind}_{source}",
            per_source(FIRST_ROW_FILE, source) + per_source(where, source),
        )
        for kind, where in (("classify", KEYSET_FILE), ("sweep", SWEEP_FILE))
        for source in SOURCES
    ]
    steps += [Step(PHASE, _step_name(path), render(path)) for path in FAILED_ROW_FILES]
    steps += [
        Step(PHASE, _step_name(path), render(path))
        for path in (
            "merge/080_high_water.sql",
            "merge/090_next_pass.sql",
            *SEQUENCE_FILES,
        )
    ]
    steps += [
        Step(
            PHASE,
            f"021_forward_{source}",
            classify_statement(config, render(path) + per_source(CAPTURED_FILE, source), TWINS_BY_CANDIDATES),
        )
        for source, path in SELECT_FILES.items()
    ]
    forwarding = dict.fromkeys(
        (FORWARD_LOCK_FILE, "capture/050_take.sql", *FORWARD_FILES, *FAILED_FORWARD_FILES)
    )
    steps += [Step(PHASE, _step_name(path), render(path)) for path in forwarding]
    return steps


def mapping_parameters(config: Config) -> dict[str, Any]:
    """The configured values the classification binds (never pasted into SQL)."""
    return {
        "namespace": config.session_rule.direct_namespace,
        "chat_context_types": list(config.voice_notes.chat_context_types),
        "voice_type": config.voice_notes.message_type,
        # Looked up by the lower-cased legacy type: types match in any case.
        "type_map": Jsonb({key.lower(): value for key, value in config.type_map.items()}),
        "booking_status": Jsonb(dict(config.session_rule.booking_status)),
        "missing_created_at": config.merge.missing_created_at,
    }


@dataclass
class Position:
    """Where one part of a source's keyset stands: after last_id (or the part's start, low_id) up
    to high_id, in pass `pass_` (pass 1 the keyset, later ones sweeps for rows left behind)."""

    source: str
    part: int = 0
    parts: int = 1
    low_id: uuid.UUID | None = None
    high_id: uuid.UUID | None = None
    last_id: uuid.UUID | None = None
    batches: int = 0
    pass_: int = 1

    def keyset(self) -> dict[str, Any]:
        start = self.last_id or self.low_id
        return {"low": start or NIL, "inclusive": start is None, "high": self.high_id or TOP}

    def batch_number(self) -> int:
        """The next batch's number, unique over the source's parts and the same on every run."""
        return self.batches * self.parts + self.part + 1


@dataclass
class MergeResult:
    """What one merge run did, and the totals over all runs since the last rollback."""

    run_counts: Counter[str] = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    workers: int = 1
    # Seconds the workers idled between batches, summed over workers (merge.pause_ratio).
    paused_seconds: float = 0.0
    sessions_created: int = 0
    sequenced_sessions: int = 0
    backup_schema: str | None = None


ProgressCallback = Callable[[str, int], None]


def _positions(conn: psycopg.Connection, config: Config) -> list[Position]:
    rows = conn.execute(
        sql.SQL(
            "SELECT source_table, part, count(*) OVER (PARTITION BY source_table), low_id, high_id, "
            "last_id, batches, pass FROM {} ORDER BY part, source_table"
        ).format(identifiers(config)["tool.high_water"])
    ).fetchall()
    return [Position(*row) for row in rows]


def remaining(conn: psycopg.Connection, config: Config) -> int:
    """Source rows without a fate yet (the progress bar's total)."""
    names = identifiers(config)
    total = 0
    with conn.transaction():
        # Only a progress bar's total: counted without parallel helpers (for this transaction).
        _limit_parallel(conn, 0, local=True)
        for source in SOURCES:
            counted = sql.SQL("SELECT count(*) FROM {}").format(table(config, source))
            count = conn.execute(counted).fetchone()[0]
            fated = 0
            if journal.installed(conn, config):
                for ledger in ("tool.provenance", "tool.quarantine", "tool.excluded"):
                    fated += conn.execute(
                        sql.SQL("SELECT count(*) FROM {} WHERE source_table = %s").format(names[ledger]),
                        [source],
                    ).fetchone()[0]
            total += max(count - fated, 0)
    return total


class _Shared:
    """What the workers of one run share: the committed-batch count (the crash hooks count across
    workers), the progress callback, the pause ratio, and the signal to stop after a worker failed."""

    def __init__(self, on_progress: ProgressCallback | None, pause_ratio: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.committed = 0
        self.stop = threading.Event()
        self.on_progress = on_progress
        self.pause_ratio = pause_ratio
        self.paused = 0.0

    def pause(self, started: float) -> None:
        """Idle PAUSE_RATIO times as long as the work since STARTED took (cut short by a stop)."""
        if not self.pause_ratio:
            return
        idle_from = time.perf_counter()
        self.stop.wait(self.pause_ratio * (idle_from - started))
        with self.lock:
            self.paused += time.perf_counter() - idle_from

    def commit(self) -> int:
        with self.lock:
            self.committed += 1
            return self.committed

    def progress(self, source: str, rows: int) -> None:
        if self.on_progress:
            with self.lock:
                self.on_progress(source, rows)


def prepare_session(conn: psycopg.Connection, parallel: int) -> None:
    fix_output_settings(conn)
    conn.prepare_threshold = None
    # Each batch is classified into temporary tables and re-read by every step; keep them in
    # memory (takes effect only before the session's first temporary table, hence here).
    conn.execute("SET temp_buffers = '256MB'")
    _limit_parallel(conn, parallel)


def _limit_parallel(conn: psycopg.Connection, parallel: int, *, local: bool = False) -> None:
    """At most PARALLEL parallel-query helpers per statement on CONN (never more than the server
    allows), for the session or, LOCAL, the transaction: the merge keeps to as many busy backends
    as it has workers, and leaves the app the rest of the server's cores."""
    conn.execute(
        "SELECT set_config('max_parallel_workers_per_gather',"
        " least(current_setting('max_parallel_workers_per_gather')::int, %s)::text, %s)",
        [parallel, local],
    )


class Batches:
    """Runs batches on one connection: each its own transaction with bounded lock waits, retried."""

    def __init__(
        self,
        conn: psycopg.Connection,
        config: Config,
        batch_size: int,
        shared: _Shared | None = None,
        texts: dict[str, str] | None = None,
    ) -> None:
        self.conn = conn
        self.config = config
        self.batch_size = batch_size
        self.shared = shared or _Shared(None)
        # The plan's steps, exactly as the operator previewed them.
        self.texts = texts or {step.name: step.sql for step in statements(config)}
        self.parameters = mapping_parameters(config)
        self.forwarded = 0
        self.forward_size = batch_size
        # When each log entry the last committed forwarding took was captured (sync's lag).
        self.captured_at: list[datetime] = []
        self.forward_lock = journal.forwarding_lock_keys(config)
        self.step = ""
        self.executor = executor(conn, config)

    def prepare(self, parts: int) -> None:
        """Cut the sources into PARTS parts (first run only) and decide the link plan: one
        transaction, so a resumed run finds both whole or neither."""
        conn, texts = self.conn, self.texts

        def work() -> None:
            for source in SOURCES:
                conn.execute(texts[f"014_parts_{source}"], {"source_table": source, "parts": parts})
            conn.execute(texts["005_link_candidates"])
            conn.execute(texts["007_unplanned_candidates"])
            conn.execute(texts["018_link_scope"], self.parameters)
            conn.execute(texts["019_link_plan"])
            # The batches join the plan; let the planner know its true (often empty) size.
            conn.execute(sql.SQL("ANALYZE {}").format(identifiers(self.config)["tool.link_plan"]))
            conn.execute("DROP TABLE link_candidates")

        self.executor.transaction("merge: link plan", work)

    def run(self, position: Position, size: int) -> tuple[uuid.UUID, Counter[str]] | None:
        found = self.executor.transaction(
            f"merge: {position.source} batch {position.batch_number()}", lambda: self._once(position, size)
        )
        if found is None:
            return None
        crash.point("merge.after_batch", self.shared.commit())
        return found

    def _execute(self, step: str, parameters: dict[str, Any] | None = None) -> psycopg.Cursor:
        # The step is remembered so a row quarantined for failing names where it failed.
        self.step = step
        return self.conn.execute(self.texts[step], parameters)

    def _once(self, position: Position, size: int) -> tuple[uuid.UUID, Counter[str]] | None:
        source = position.source
        batch = position.batch_number()
        selected = self._execute(
            f"020_{'classify' if position.pass_ == 1 else 'sweep'}_{source}",
            {**self.parameters, **position.keyset(), "batch_size": size},
        )
        if not selected.rowcount:
            return None
        counts: Counter[str] = Counter()
        for fate, reason, rows in self._execute("025_batch_counts").fetchall():
            counts[f"{source}.{fate}" + (f".{reason}" if reason else "")] += rows
        for relative in BATCH_FILES:
            cursor = self._execute(_step_name(relative), {"batch": batch})
            if relative.endswith("030_create_sessions.sql"):
                counts["sessions_created"] += max(cursor.rowcount, 0)
        # Crash points: inside the k-th batch before its commit, and after its commit (run()).
        crash.point("merge.in_batch", self.shared.committed + 1)
        last_id = self._execute(
            "080_high_water",
            {
                "source_table": source,
                "part": position.part,
                "batches": position.batches + 1,
                "pass": position.pass_,
            },
        ).fetchone()
        assert last_id is not None
        return last_id[0], counts

    def _failed_detail(self, exc: psycopg.DatabaseError) -> str:
        return f"{db.error_text(exc)} (in {self.step})"

    def quarantine_failed(
        self, position: Position, exc: psycopg.DatabaseError
    ) -> tuple[uuid.UUID, Counter[str]] | None:
        """Quarantine the part's next row, which its batch statements fail on by themselves,
        with the database's error, and move the part's keyset past it."""
        detail = self._failed_detail(exc)
        done = self.executor.transaction(
            f"merge: quarantine a failing {position.source} row",
            lambda: self._quarantine_once(position, detail),
        )
        if done is not None:
            crash.point("merge.after_batch", self.shared.commit())
        return done

    def _quarantine_once(self, position: Position, detail: str) -> tuple[uuid.UUID, Counter[str]] | None:
        conn, source = self.conn, position.source
        kind = "classify" if position.pass_ == 1 else "sweep"
        first = conn.execute(
            self.texts[f"075_first_row_{kind}_{source}"], {**position.keyset(), "batch_size": 1}
        ).fetchone()
        if first is None:
            return None
        values = {
            "source_table": source,
            "source_id": first[0],
            "detail": detail,
            "batch": position.batch_number(),
        }
        _with_snapshot_or_id(conn, self.texts["076_quarantine_failed"], values)
        conn.execute(
            self.texts["077_high_water_at"],
            {
                "last_id": first[0],
                "batches": position.batches + 1,
                "pass": position.pass_,
                "source_table": source,
                "part": position.part,
            },
        )
        return first[0], Counter({f"{source}.quarantined.merge_error": 1})

    def merge_part(self, position: Position) -> tuple[Counter[str], int]:
        """Run one part's passes to their end; returns its counts and batches.

        A batch the database refuses because of a row in it is not given up: it is halved until
        the row it fails on is alone, that row is quarantined with the error (reason
        merge_error), and the batches grow back to their size after it.
        """
        counts: Counter[str] = Counter()
        batches = 0
        size = self.batch_size
        while not self.shared.stop.is_set():
            started = time.perf_counter()
            try:
                done = self.run(position, size)
                size = min(self.batch_size, size * 2)
            except psycopg.DatabaseError as exc:
                if not db.is_row_error(exc):
                    raise
                if size > 1:
                    size = (size + 1) // 2
                    continue
                done = self.quarantine_failed(position, exc)
            self.shared.pause(started)
            if done is None:
                self.next_pass(position)
                if position.pass_ > 1:
                    break
                position = replace(position, last_id=None, pass_=position.pass_ + 1)
                continue
            last_id, found = done
            position = replace(position, last_id=last_id, batches=position.batches + 1)
            counts.update(found)
            batches += 1
            self.shared.progress(position.source, sum(v for k, v in found.items() if k != "sessions_created"))
        return counts, batches

    def forward(self, source: str, upto: int) -> Counter[str] | None:
        """Forward the next captured changes of SOURCE logged up to log id UPTO, in one
        transaction; None when none wait. Like a batch, a forwarding the database refuses is
        halved until the row it fails on is alone, and that row is quarantined with the error."""
        while True:
            try:
                done = self.executor.transaction(
                    f"merge: forward {source}", lambda: self._forward_once(source, upto, self.forward_size)
                )
                self.forward_size = min(self.batch_size, self.forward_size * 2)
            except psycopg.DatabaseError as exc:
                if not db.is_row_error(exc):
                    raise
                if self.forward_size > 1:
                    self.forward_size = (self.forward_size + 1) // 2
                    continue
                detail = self._failed_detail(exc)
                done = self.executor.transaction(
                    f"merge: quarantine a failing {source} change",
                    lambda detail=detail: self._forward_failed(source, upto, detail),
                )
            if done is not None:
                self.forwarded += 1
            return done

    def _forward_once(self, source: str, upto: int, size: int) -> Counter[str] | None:
        self._execute("045_forward_lock", self.forward_lock)
        taken = self._execute("050_take", {"source_table": source, "upto": upto, "batch_size": size}).rowcount
        if not taken:
            return None
        self._execute(f"021_forward_{source}", self.parameters)
        counts: Counter[str] = Counter({f"{source}.forwarded": taken})
        for relative in FORWARD_FILES:
            cursor = self._execute(_step_name(relative), {"batch": FORWARD_BATCH})
            if relative.endswith("025_batch_counts.sql"):
                for fate, reason, rows in cursor.fetchall():
                    counts[f"{source}.{fate}" + (f".{reason}" if reason else "")] += rows
            elif relative.endswith("030_create_sessions.sql"):
                counts["sessions_created"] += max(cursor.rowcount, 0)
            elif relative.endswith("080_mark_forwarded.sql"):
                self.captured_at = [row[0] for row in cursor.fetchall()]
        crash.point("merge.in_forward", self.forwarded + 1)
        return counts

    def _forward_failed(self, source: str, upto: int, detail: str) -> Counter[str] | None:
        """Forward the next captured change, which fails by itself, as a quarantined row."""
        conn, texts = self.conn, self.texts
        conn.execute(texts["045_forward_lock"], self.forward_lock)
        taken = conn.execute(
            texts["050_take"], {"source_table": source, "upto": upto, "batch_size": 1}
        ).rowcount
        if not taken:
            return None
        values = {"detail": detail, "batch": FORWARD_BATCH}
        for relative in FAILED_FORWARD_FILES:
            if relative.endswith("071_quarantine_failed.sql"):
                _with_snapshot_or_id(conn, texts[_step_name(relative)], values)
            elif relative.endswith("080_mark_forwarded.sql"):
                cursor = conn.execute(texts[_step_name(relative)], values)
                self.captured_at = [row[0] for row in cursor.fetchall()]
            else:
                conn.execute(texts[_step_name(relative)], values)
        return Counter({f"{source}.forwarded": taken, f"{source}.quarantined.merge_error": 1})

    def next_pass(self, position: Position) -> None:
        self.conn.execute(
            self.texts["090_next_pass"],
            {"source_table": position.source, "part": position.part, "pass": position.pass_ + 1},
        )

    def sequence(self, batch: int) -> int:
        """Sequence every session merge wrote into and update their last_message_at: one
        set-based pass in one transaction; returns the sessions whose sequence was written."""
        conn, texts = self.conn, self.texts

        def work() -> int:
            written = 0
            for relative in SEQUENCE_FILES:
                cursor = conn.execute(texts[_step_name(relative)], {"batch": batch})
                if relative.endswith("120_sequence_store.sql"):
                    written += max(cursor.rowcount, 0)
            return written

        return self.executor.transaction("merge: sequence sessions", work)


def _with_snapshot_or_id(conn: psycopg.Connection, statement: str, values: dict[str, Any]) -> None:
    """Run a quarantine of a failed row with its snapshot, or with its id only should taking the
    snapshot be what fails (in a savepoint, so the transaction goes on)."""
    try:
        with conn.transaction():
            conn.execute(statement, {**values, "snapshot": True})
    except psycopg.DatabaseError as exc:
        if not db.is_row_error(exc):
            raise
        conn.execute(statement, {**values, "snapshot": False})


def _worker(
    main: psycopg.Connection,
    config: Config,
    batch_size: int,
    shared: _Shared,
    todo: queue.SimpleQueue,
    texts: dict[str, str],
) -> tuple[Counter[str], int]:
    """One worker: its own connection, taking parts until none is left (or another failed)."""
    counts: Counter[str] = Counter()
    batches = 0
    try:
        with db.sibling(main) as conn:
            # The workers are the parallelism: no parallel-query helpers besides.
            prepare_session(conn, 0)
            runner = Batches(conn, config, batch_size, shared, texts)
            while not shared.stop.is_set():
                try:
                    position = todo.get_nowait()
                except queue.Empty:
                    break
                found, done = runner.merge_part(position)
                counts.update(found)
                batches += done
    except BaseException:
        shared.stop.set()
        raise
    return counts, batches


def _merge_parts(
    conn: psycopg.Connection,
    config: Config,
    positions: list[Position],
    batch_size: int,
    workers: int,
    shared: _Shared,
    texts: dict[str, str],
) -> tuple[Counter[str], int]:
    """Every part to its end: on CONN alone with one worker, else on WORKERS connections of
    their own, each part wholly on one of them (parts touch disjoint source rows)."""
    counts: Counter[str] = Counter()
    batches = 0
    if workers <= 1 or len(positions) <= 1:
        runner = Batches(conn, config, batch_size, shared, texts)
        for position in positions:
            found, done = runner.merge_part(position)
            counts.update(found)
            batches += done
        return counts, batches
    todo: queue.SimpleQueue[Position] = queue.SimpleQueue()
    for position in positions:
        todo.put(position)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="merge") as pool:
        futures = [
            pool.submit(_worker, conn, config, batch_size, shared, todo, texts) for _ in range(workers)
        ]
        wait(futures)
    for future in futures:
        found, done = future.result()
        counts.update(found)
        batches += done
    return counts, batches


def _captured_waiting(conn: psycopg.Connection, config: Config) -> bool:
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE forwarded_at IS NULL)")
    return bool(conn.execute(query.format(identifiers(config)["tool.capture_log"])).fetchone()[0])


def executor(conn: psycopg.Connection, config: Config) -> BoundedExecutor:
    """Merge's bounded-lock executor: each batch its own transaction, lock waits and statements
    bounded, retried on contention."""
    return BoundedExecutor(
        conn,
        lock_timeout_ms=config.merge.lock_timeout_ms,
        max_retries=config.merge.max_retries,
        statement_timeout_ms=config.merge.statement_timeout_ms,
        # A batch's classification is hashed and re-read in memory, not spilled to disk.
        settings={"work_mem": "64MB"},
    )


def forward_all(batches: Batches, on_progress: ProgressCallback | None = None) -> Counter[str]:
    """Forward every captured change logged so far, source by source. Changes logged meanwhile
    are left to the next run (or the cut-over): under an app that never stops writing, chasing
    them would never end."""
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    upto = batches.conn.execute(
        sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(identifiers(batches.config)["tool.capture_log"])
    ).fetchone()[0]
    for source in SOURCES:
        while (done := batches.forward(source, upto)) is not None:
            counts.update(done)
            batches.shared.pause(started)
            started = time.perf_counter()
            if on_progress:
                on_progress(source, 0)
    return counts


def forward(conn: psycopg.Connection, config: Config, *, batch_size: int | None = None) -> MergeResult:
    """Forward the captured changes that wait and re-sequence: what cut-over runs once the legacy
    tables are closed. CONN must be in autocommit mode."""
    fix_output_settings(conn)
    result = MergeResult()
    batches = Batches(conn, config, batch_size or config.merge.batch_size)
    conn.execute(batches.texts["005_link_candidates"])
    result.run_counts = forward_all(batches)
    conn.execute("DROP TABLE IF EXISTS link_candidates")
    result.sessions_created = result.run_counts.pop("sessions_created", 0)
    result.sequenced_sessions = batches.sequence(0)
    result.totals = totals(conn, config)
    return result


def totals(conn: psycopg.Connection, config: Config) -> dict[str, int]:
    """Every fate recorded so far, as "<source>.<fate>[.<reason>]" -> rows."""
    rows = conn.execute(sqlfiles.render("verify/010_fate_totals.sql", identifiers(config))).fetchall()
    return {key: count for key, count in rows}


ROLLBACK_FILES = (
    "capture/030_drop_triggers.sql",
    "capture/035_drop_function.sql",
    "capture/032_drop_app_trigger.sql",
    "capture/036_drop_app_function.sql",
    "merge/200_rollback_messages.sql",
    "merge/210_rollback_restore_sessions.sql",
    "merge/220_rollback_delete_sessions.sql",
    "merge/225_rollback_kept_sessions.sql",
    "merge/230_rollback_ledgers.sql",
)


def rollback_statements(config: Config) -> list[Step]:
    names = identifiers(config)
    return [
        Step(PHASE, "rollback_" + _step_name(path), sqlfiles.render(path, names)) for path in ROLLBACK_FILES
    ]


def _plan_counts(conn: psycopg.Connection, config: Config) -> tuple[dict[str, int], list[str]]:
    """What merge would do from here, counted in the plan's read-only snapshot: per source, fate
    and reason the rows still without a fate; or, once merge has run, what it recorded."""
    names = identifiers(config)
    if (
        journal.installed(conn, config)
        and conn.execute(
            sql.SQL("SELECT EXISTS (SELECT FROM {})").format(names["tool.provenance"])
        ).fetchone()[0]
    ):
        counts = {f"already {key}": count for key, count in totals(conn, config).items()}
        counts["source rows without a fate yet"] = remaining(conn, config)
        return counts, ["merge has run before: counts are what it recorded, plus rows still pending"]
    classified = sql.SQL(
        "WITH merge_source AS (\n{}\n),\nlink_candidates AS (\n{}\n),\nclassified AS (\n{}\n)\n{}"
    ).format(
        sql.SQL(sqlfiles.render("merge/300_plan_source.sql", names)),
        sql.SQL(sqlfiles.render("merge/005_link_candidates.sql", names)),
        sql.SQL(classification(config, TWINS_BY_CANDIDATES)),
        sql.SQL(sqlfiles.render("merge/310_plan_counts.sql", names)),
    )
    counts: dict[str, int] = {}
    verbs = {
        "migrated": "to migrate",
        "linked": "to link (already dual-written)",
        "quarantined": "to quarantine",
        "excluded": "to exclude",
    }
    for source, fate, reason, count in conn.execute(classified, mapping_parameters(config)).fetchall():
        if fate == "sessions":
            counts["sessions to create"] = count
        else:
            counts[f"{source} {verbs[fate]}" + (f": {reason}" if reason else "")] = count
    return counts, []


class Merge:
    """Copy messages and voice notes into chat_messages, every source row exactly one fate."""

    name: ClassVar[str] = PHASE
    requires: ClassVar[tuple[str, ...]] = ("backup",)
    tables: ClassVar[tuple[str, ...]] = ("profiles", "bookings", *CHAT_TABLES)
    summary: ClassVar[str] = (
        "Merge messages and voice notes into chat_messages: each row migrated, linked, quarantined "
        "or excluded."
    )
    options: ClassVar[tuple[Option, ...]] = (
        Option("batch_size", int, "Source rows per transaction (default: merge.batch_size).", minimum=1),
        Option("workers", int, "Connections merging side by side (default: merge.workers).", None, 1, 16),
        Option(
            "pause_ratio",
            float,
            "After each batch, pause this many times as long as it took: gentler on a live app "
            "(default: merge.pause_ratio).",
            minimum=0,
            maximum=100,
        ),
    )

    def plan(self, ctx: Context, *, counts: bool = True) -> Plan:
        conn, config = ctx.conn, ctx.config
        fix_output_settings(conn)
        started_with = journal.baseline_fingerprint(conn, config, PHASE)
        if started_with is not None and started_with != config.fingerprint():
            # Rows already merged were classified under the first configuration; mixing two would
            # give one merge two meanings.
            raise UsageError(
                f"merge was started with another configuration (fingerprint {started_with[:12]}, "
                f"now {config.fingerprint()[:12]})",
                hint="resume with the configuration it started with, or `consolidate rollback --phase merge "
                "--apply` and merge again",
            )
        result = Plan(PHASE, steps=statements(config))
        if counts:
            with conn.transaction():
                # READ ONLY: the server itself refuses any write the plan might attempt.
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                result.counts, result.notes = _plan_counts(conn, config)
        return result

    def apply(self, ctx: Context, plan: Plan) -> Result:
        """Run (or resume) the merge until every source row has a fate, then sequence the sessions.

        Each batch is its own transaction. With more than one worker, the parts of the sources'
        key ranges are merged side by side on connections of their own, opened with CONN's
        credentials.
        """
        conn, config, record = ctx.conn, ctx.config, ctx.record
        assert record is not None
        workers = ctx.option("workers", config.merge.workers)
        pause_ratio = ctx.option("pause_ratio", config.merge.pause_ratio)
        batch_size = ctx.option("batch_size", config.merge.batch_size)
        result = MergeResult(workers=workers)
        # What runs on CONN alone (the link plan, forwarding, sequencing) may use the other workers'
        # share of the server as parallel-query helpers, and no more.
        prepare_session(conn, workers - 1)
        result.backup_schema = backup.latest_verified(conn, config)
        if journal.baseline(conn, config, PHASE) is None:
            journal.record_baseline(conn, config, record, chat_checksums(conn, config, MERGED_TABLES))
        # Capture first: a change made from here on is logged, so the backfill below and the
        # forwarding after it between them see every row.
        capture.install(conn, config)
        ctx.events.progress("merging", 0, total=remaining(conn, config) or None)

        def advance(_source: str, rows: int) -> None:
            ctx.events.progress("merging", rows)

        shared = _Shared(advance, pause_ratio)
        texts = {step.name: step.sql for step in plan.steps}
        batches = Batches(conn, config, batch_size, shared, texts)
        batches.prepare(workers)
        run_counts, result.batches = _merge_parts(
            conn, config, _positions(conn, config), batch_size, workers, shared, texts
        )
        result.run_counts.update(run_counts)
        if _captured_waiting(conn, config):
            conn.execute(texts["005_link_candidates"])
            result.run_counts.update(forward_all(batches, advance))
            conn.execute("DROP TABLE IF EXISTS link_candidates")
        # Batch numbers count per source; what the final pass records is marked batch 0.
        result.sequenced_sessions = batches.sequence(0)
        result.sessions_created = result.run_counts.pop("sessions_created", 0)
        result.paused_seconds = shared.paused
        result.totals = totals(conn, config)
        details = {
            "batches": result.batches,
            "batch_size": batch_size,
            "workers": workers,
            "pause_ratio": pause_ratio,
            "paused_seconds": round(shared.paused, 3),
            "backup_schema": result.backup_schema,
            "sequenced_sessions": result.sequenced_sessions,
            "sessions_created": result.sessions_created,
        }
        fated = sum(count for key, count in result.run_counts.items() if not key.endswith(".forwarded"))
        counts = {
            "new rows this run": fated,
            "batches": result.batches,
            "workers": workers,
            "seconds paused between batches": round(shared.paused, 1),
            "run": dict(result.run_counts),
            "totals": result.totals,
        }
        return Result(PHASE, "apply", counts, details)

    def verify(self, ctx: Context) -> Report:
        checked = verify.run(ctx.conn, ctx.config)
        findings = [Finding(f.check, f"{f.table} {f.key}", f.detail) for f in checked.findings]
        notes: dict[str, Any] = {
            "fates": checked.totals,
            "pending (captured, not forwarded yet)": checked.pending,
            "written back to the legacy table": checked.written_back,
            "pending (to write back)": checked.write_back_pending,
        }
        if checked.oldest_pending_seconds is not None:
            notes["oldest pending capture, seconds ago"] = round(checked.oldest_pending_seconds, 1)
        return Report(PHASE, dict(checked.counts), findings, notes)

    def rollback_plan(self, ctx: Context) -> Plan:
        return Plan(PHASE, "rollback", steps=rollback_statements(ctx.config))

    def rollback(self, ctx: Context, plan: Plan) -> Result:
        """Remove exactly what merge created, restore what it changed, prove the baseline is back.

        One transaction: a failure leaves the merge as it was. When the chat tables still differ
        from their pre-merge checksums (something besides merge changed them meanwhile) it
        raises, so the rollback is journaled failed.
        """
        conn, config, record = ctx.conn, ctx.config, ctx.record
        assert record is not None
        fix_output_settings(conn)
        baseline = journal.baseline(conn, config, PHASE)
        if baseline is None:
            raise UsageError(
                "merge has no pre-merge baseline in the journal: nothing to roll back",
                hint="`consolidate merge --apply` runs it",
            )
        by_name = {step.name: step.sql for step in plan.steps}
        counts: dict[str, int] = {}
        kept: list[str] = []

        def work() -> None:
            # Capture off first: the log it fed goes with the rest of merge's bookkeeping.
            def run(name: str) -> psycopg.Cursor:
                return conn.execute(by_name[f"rollback_{name}"])

            run("030_drop_triggers")
            run("035_drop_function")
            run("032_drop_app_trigger")
            run("036_drop_app_function")
            counts["messages_deleted"] = run("200_rollback_messages").rowcount
            counts["sessions_restored"] = run("210_rollback_restore_sessions").rowcount
            counts["sessions_deleted"] = run("220_rollback_delete_sessions").rowcount
            kept[:] = [row[0] for row in run("225_rollback_kept_sessions").fetchall()]
            run("230_rollback_ledgers")
            journal.clear_baseline(conn, config, PHASE)

        BoundedExecutor(
            conn, lock_timeout_ms=config.merge.lock_timeout_ms, max_retries=config.merge.max_retries
        ).transaction("merge rollback", work)
        counts["sessions_kept"] = len(kept)
        after = chat_checksums(conn, config, tuple(baseline))
        differing = [name for name, entry in baseline.items() if after.get(name) != entry]
        record.checksums = {"baseline": baseline, "after": after}
        record.details = {"differing_tables": differing, "sessions_kept": kept[:100]}
        record.counts = counts
        if differing:
            raise FindingsError(
                "merge rolled back, but these tables differ from their pre-merge checksums: "
                + ", ".join(differing),
                hint="something besides merge changed them since; compare with the backup schema",
            )
        return Result(PHASE, "rollback", counts, record.details)
