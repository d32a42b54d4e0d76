"""Sync: the transition window's forwarder, carrying captured legacy writes into chat_messages until cut-over.

Merge forwards what was captured when it began forwarding, and returns; cut-over forwards the
rest. Between the two, `sync --apply` keeps forwarding: each round takes the captured changes
that wait (inserts, edits, deletes of `messages` and `voice_notes`) and forwards them with the
merge's own statements — the same classification, fates and provenance, each forwarding one
transaction that also marks its log entries forwarded, so a SIGKILL loses and duplicates nothing.
It runs until it is told to stop (finishing the step it is in) or the cut-over stands.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from consolidation.core import crash, journal, sqlfiles
from consolidation.core.checksums import fix_output_settings
from consolidation.core.errors import PhaseOrderError
from consolidation.core.names import check_mapping, identifiers
from consolidation.phases import capture, merge, verify
from consolidation.phases.contract import Context, Plan, Step, command

PHASE = "sync"
TABLES = ("messages", "voice_notes", "chat_sessions", "chat_messages")
# No log id is larger: a running sync forwards whatever waits, however late it was logged.
EVERY_LOG_ID = (1 << 63) - 1
# The provenance batch that marks a legacy row as written back from chat_messages.
WRITE_BACK_BATCH = verify.WRITE_BACK_BATCH
WRITE_BACK_FILES = (
    "sync/090_write_back_writer.sql",
    "sync/100_take_app_changes.sql",
    "sync/110_write_back_rows.sql",
    "sync/130_delete_legacy.sql",
    "sync/120_upsert_legacy.sql",
    "sync/140_record_write_back.sql",
    "sync/150_mark_written_back.sql",
)
# The lag histogram's resolution and reach; a longer lag is counted in its last bucket.
LAG_BUCKET_SECONDS = 0.001
LAG_BUCKETS = 120_000


class LagHistogram:
    """Capture-to-visible lags in 1 ms buckets: exact percentiles to the millisecond, in bounded
    memory however long sync runs."""

    def __init__(self) -> None:
        self.buckets = [0] * LAG_BUCKETS
        self.count = 0
        self.max_seconds = 0.0

    def add(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.buckets[min(int(seconds / LAG_BUCKET_SECONDS), LAG_BUCKETS - 1)] += 1
        self.count += 1
        self.max_seconds = max(self.max_seconds, seconds)

    def percentile(self, fraction: float) -> float | None:
        """The lag FRACTION of the changes were visible within (the bucket's upper edge)."""
        if not self.count:
            return None
        wanted = max(1, round(fraction * self.count))
        seen = 0
        for index, found in enumerate(self.buckets):
            seen += found
            if seen >= wanted:
                return min((index + 1) * LAG_BUCKET_SECONDS, self.max_seconds)
        return self.max_seconds

    def as_counts(self) -> dict[str, Any]:
        shown = {"p50": self.percentile(0.50), "p99": self.percentile(0.99)}
        return {
            "changes timed": self.count,
            **{f"lag {name} s": None if value is None else round(value, 3) for name, value in shown.items()},
            "lag max s": round(self.max_seconds, 3),
        }


@dataclass
class Backlog:
    """The captured changes that wait to be forwarded, and whether capture and cut-over stand."""

    by_kind: dict[str, int] = field(default_factory=dict)
    oldest_seconds: float | None = None
    capturing: bool = False
    cut_over: bool = False

    @property
    def pending(self) -> int:
        return sum(self.by_kind.values())


def backlog(conn: psycopg.Connection, config: Any) -> Backlog:
    """The backlog as it stands (read-only; empty when the tool's schema is not there)."""
    found = Backlog()
    if not journal.installed(conn, config):
        return found
    names = identifiers(config)
    for source, operation, changes, oldest in conn.execute(sqlfiles.render("sync/010_backlog.sql", names)):
        found.by_kind[f"{source} {operation}"] = changes
        found.oldest_seconds = oldest if found.oldest_seconds is None else max(found.oldest_seconds, oldest)
    found.capturing = _watch(conn, config)[1]
    found.cut_over = journal.phase_state(conn, config, "cutover").applied
    return found


def _watch(conn: psycopg.Connection, config: Any) -> tuple[bool, bool]:
    names = identifiers(config)
    row = conn.execute(
        sqlfiles.render("sync/020_watch.sql", names),
        {"messages": sqlfiles.quote(names["messages"]), "voice_notes": sqlfiles.quote(names["voice_notes"])},
    ).fetchone()
    assert row is not None
    return bool(row[0]), bool(row[1])


def statements(config: Any) -> list[Step]:
    """What each round runs: merge's forwarding statements (per captured change), then its
    sequencing of the sessions written into (at most every sync.sequence_seconds)."""
    forwarding = [
        Step(PHASE, f"forward: {step.name}", step.sql, repeats="per captured change")
        for step in merge.statements(config)
        if step.name.startswith(("021_forward", "045_forward_lock", "050_take"))
        or step.name in FORWARD_STEPS
        or step.name == "005_link_candidates"
    ]
    sequencing = [
        Step(PHASE, f"sequence: {step.name}", step.sql, repeats="after forwarding, at most every few seconds")
        for step in merge.statements(config)
        if step.name in SEQUENCE_STEPS
    ]
    names = identifiers(config)
    writing_back = [
        Step(
            PHASE,
            f"write back: {path.split('/')[-1].removesuffix('.sql')}",
            sqlfiles.render(path, names),
            repeats="per app change",
        )
        for path in WRITE_BACK_FILES
    ]
    return forwarding + sequencing + (writing_back if config.sync.write_back else [])


def _names(files: tuple[str, ...]) -> frozenset[str]:
    return frozenset(path.split("/")[-1].removesuffix(".sql") for path in files)


FORWARD_STEPS = _names(merge.FORWARD_FILES + merge.FAILED_FORWARD_FILES)
SEQUENCE_STEPS = _names(merge.SEQUENCE_FILES)


def plan(ctx: Context) -> Plan:
    """Read-only: the backlog, and what `sync --apply` would run on it."""
    conn, config = ctx.conn, ctx.config
    check_mapping(conn, config, TABLES)
    fix_output_settings(conn)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        waiting = backlog(conn, config)
        merged = journal.phase_state(conn, config, "merge").applied
    result = Plan(PHASE, steps=statements(config))
    result.counts = {
        "captured changes waiting": waiting.pending,
        **{f"waiting: {kind}": count for kind, count in waiting.by_kind.items()},
        "oldest waiting (s)": round(waiting.oldest_seconds, 1) if waiting.oldest_seconds is not None else "-",
        "capture on": "yes" if waiting.capturing else "no",
        "cut-over stands": "yes" if waiting.cut_over else "no",
    }
    if not merged:
        result.notes.append(
            f"merge has not been applied: nothing to sync yet (run {command('merge', '--apply')})"
        )
    elif waiting.cut_over and not waiting.capturing and not waiting.pending:
        result.notes.append("the cut-over stands and nothing waits: sync --apply would stop at once")
    else:
        result.notes.append(
            f"--apply forwards the {waiting.pending:,} waiting changes with merge's mapping, fates and "
            "provenance, then every change captured after them, until stopped (SIGTERM / SIGINT) or "
            "until the cut-over stands"
        )
    return result


@dataclass
class SyncResult:
    """What one sync run did: changes forwarded (by fate), rounds, lag, and why it stopped."""

    counts: Counter[str] = field(default_factory=Counter)
    forwardings: int = 0
    sequencings: int = 0
    lag: LagHistogram = field(default_factory=LagHistogram)
    written_back: Counter[str] = field(default_factory=Counter)
    write_back_lag: LagHistogram = field(default_factory=LagHistogram)
    stopped_by: str = ""
    seconds: float = 0.0
    record_id: int | None = None

    def as_counts(self) -> dict[str, Any]:
        forwarded = sum(v for k, v in self.counts.items() if k.endswith(".forwarded"))
        return {
            "changes forwarded": forwarded,
            "forwarding transactions": self.forwardings,
            "sequencings": self.sequencings,
            "seconds": round(self.seconds, 1),
            "stopped by": self.stopped_by,
            **self.lag.as_counts(),
            "fates": {k: v for k, v in sorted(self.counts.items()) if not k.endswith(".forwarded")},
            "write-back": {
                **dict(sorted(self.written_back.items())),
                **{
                    key: value
                    for key, value in self.write_back_lag.as_counts().items()
                    if key != "changes timed"
                },
            },
        }


class WriteBack:
    """The way back on one connection: the new app's logged chat_messages changes into the legacy
    table, a transaction at a time, each marking what it took (sync runs it every round; a
    cut-over rollback drains it before the legacy path re-opens)."""

    def __init__(self, conn: psycopg.Connection, config: Any, batch_size: int) -> None:
        self.conn, self.batch_size = conn, batch_size
        self.executor = merge.executor(conn, config)
        self.texts = {path: sqlfiles.render(path, identifiers(config)) for path in WRITE_BACK_FILES}
        legacy_types: dict[str, str] = {}
        for legacy, chat in config.type_map.items():
            legacy_types.setdefault(chat, legacy)
        self.parameters = {
            "namespace": config.session_rule.direct_namespace,
            "legacy_types": Jsonb(legacy_types),
            "write_back_batch": WRITE_BACK_BATCH,
        }
        self.counts: Counter[str] = Counter()

    def once(self, upto: int = EVERY_LOG_ID) -> list[Any]:
        """Write back the next changes logged up to log id UPTO; returns their capture times
        (empty when none wait)."""
        texts, parameters = self.texts, {**self.parameters, "upto": upto}
        taken: Counter[str] = Counter()

        def work() -> list[Any]:
            conn = self.conn
            taken.clear()
            conn.execute(texts["sync/090_write_back_writer.sql"])
            batch = conn.execute(
                texts["sync/100_take_app_changes.sql"], {**parameters, "batch_size": self.batch_size}
            )
            if not batch.rowcount:
                return []
            taken["chat messages taken"] = batch.rowcount
            conn.execute(texts["sync/110_write_back_rows.sql"], parameters)
            taken["legacy rows deleted"] = conn.execute(
                texts["sync/130_delete_legacy.sql"], parameters
            ).rowcount
            taken["legacy rows written"] = conn.execute(
                texts["sync/120_upsert_legacy.sql"], parameters
            ).rowcount
            conn.execute(texts["sync/140_record_write_back.sql"], parameters)
            return [row[0] for row in conn.execute(texts["sync/150_mark_written_back.sql"])]

        captured = self.executor.transaction("write back", work)
        self.counts.update(taken)
        return captured

    def drain(self) -> dict[str, int]:
        """Write back everything logged so far; returns what it did."""
        while self.once():
            pass
        return dict(self.counts)


class _Forwarder:
    """One connection's rounds: forward what waits, time it, sequence now and then."""

    def __init__(self, ctx: Context, batch_size: int, result: SyncResult) -> None:
        self.conn, self.config = ctx.conn, ctx.config
        self.events = ctx.events
        self.result = result
        self.batches = merge.Batches(self.conn, self.config, batch_size)
        self.texts = self.batches.texts
        self.settings = self.config.sync
        self.dirty = False
        self.sequenced = time.monotonic()
        self.write_back = (
            WriteBack(self.conn, self.config, batch_size) if self.config.sync.write_back else None
        )
        self._candidates()

    def _candidates(self) -> None:
        # The app's chat messages a forwarded row may already have been written as (dual-writes):
        # taken again whenever the sessions are sequenced, so it follows the app's new rows.
        self.conn.execute("DROP TABLE IF EXISTS link_candidates")
        self.conn.execute(self.texts["005_link_candidates"])

    def round(self, upto: int, app_upto: int) -> int:
        """One forwarding transaction per source, then one write-back; returns the changes handled."""
        return self.forward(upto) + self.write_back_once(app_upto)

    def write_back_once(self, upto: int) -> int:
        if self.write_back is None:
            return 0
        captured = self.write_back.once(upto)
        if not captured:
            return 0
        # The new app's messages change its sessions' order too: the tool's sequence follows.
        self.dirty = True
        visible = self.conn.execute(sqlfiles.load("sync/030_clock.sql")).fetchone()[0]
        for at in captured:
            self.result.write_back_lag.add((visible - at).total_seconds())
        self.result.written_back = Counter(self.write_back.counts)
        return len(captured)

    def forward(self, upto: int) -> int:
        """One forwarding transaction per source; returns the changes forwarded."""
        forwarded = 0
        for source in merge.SOURCES:
            done = self.batches.forward(source, upto)
            if done is None:
                continue
            visible = self.conn.execute(sqlfiles.load("sync/030_clock.sql")).fetchone()[0]
            for captured in self.batches.captured_at:
                self.result.lag.add((visible - captured).total_seconds())
            self.result.counts.update(done)
            self.result.forwardings += 1
            # A kill here: the forwarding committed, its log entries with it (the fault tests).
            crash.point("sync.after_forward")
            forwarded += done[f"{source}.forwarded"]
        if forwarded:
            self.dirty = True
        return forwarded

    def sequence(self, *, due_only: bool) -> None:
        if not self.dirty or (
            due_only and time.monotonic() - self.sequenced < self.settings.sequence_seconds
        ):
            return
        self.batches.sequence(0)
        self.result.sequencings += 1
        self.dirty = False
        self.sequenced = time.monotonic()
        self._candidates()


def run(
    ctx: Context,
    *,
    stop: threading.Event | None = None,
    once: bool = False,
    max_seconds: float | None = None,
    batch_size: int | None = None,
) -> SyncResult:
    """Forward captured changes until STOP is set, MAX_SECONDS pass, the cut-over stands, or
    (ONCE) the changes logged when it started are forwarded; sequence what it wrote; journal it.

    Holds sync's lock and merge's (a merge, or its rollback, never runs beside it); every
    forwarding also takes the forwarding lock, so a cut-over forwards beside it in turn.
    """
    conn, config = ctx.conn, ctx.config
    stop = stop or threading.Event()
    result = SyncResult()
    fix_output_settings(conn)
    check_mapping(conn, config, TABLES)
    with journal.phase_lock(conn, config, PHASE), journal.phase_lock(conn, config, "merge"):
        journal.check_database(conn, config)
        standing = journal.phase_state(conn, config, "merge")
        if not standing.applied or standing.unfinished:
            raise PhaseOrderError(
                "sync forwards what merge's change capture logs, and merge "
                + (
                    "has not been applied"
                    if not standing.applied
                    else f"did not finish ({standing.unfinished})"
                ),
                hint=f"run {command('merge', '--apply')} first",
            )
        steps = statements(config)
        run_record = journal.start_run(conn, config, ctx.command or "consolidate sync --apply")
        journal.mark_interrupted(conn, config, PHASE)
        merge.prepare_session(conn, 0)
        with journal.recorded_phase(
            conn, run_record, PHASE, "apply", Plan(PHASE, steps=steps).hash
        ) as record:
            result.record_id = record.id
            try:
                _loop(ctx, result, stop, once, max_seconds, batch_size or config.sync.batch_size)
            finally:
                record.counts = result.as_counts()
    return result


def _loop(
    ctx: Context,
    result: SyncResult,
    stop: threading.Event,
    once: bool,
    max_seconds: float | None,
    batch_size: int,
) -> None:
    conn, config = ctx.conn, ctx.config
    started = time.monotonic()
    reported = started
    upto, app_upto = conn.execute(sqlfiles.render("sync/040_last_log_id.sql", identifiers(config))).fetchone()
    forwarder = _Forwarder(ctx, batch_size, result)
    if _watch(conn, config)[1]:
        # The way back is on while the legacy path is (configured off: its trigger goes).
        if config.sync.write_back:
            capture.install_write_back(conn, config)
        else:
            capture.remove_write_back(conn, config)
    while True:
        if stop.is_set():
            result.stopped_by = "signal"
            break
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            result.stopped_by = "max-seconds"
            break
        if forwarder.round(upto if once else EVERY_LOG_ID, app_upto if once else EVERY_LOG_ID):
            forwarder.sequence(due_only=True)
        else:
            # Nothing waits (of what this run forwards): the backlog is drained.
            forwarder.sequence(due_only=False)
            if once:
                result.stopped_by = "once"
                break
            waiting, capturing = _watch(conn, config)
            if not waiting and not capturing and journal.phase_state(conn, config, "cutover").applied:
                result.stopped_by = "cut-over"
                break
            if not waiting:
                stop.wait(config.sync.poll_ms / 1000)
        if time.monotonic() - reported >= config.sync.report_seconds:
            reported = time.monotonic()
            ctx.events.say(_status_line(result))
    # Stopping finishes the step it is in; what it forwarded is sequenced before it exits.
    forwarder.sequence(due_only=False)
    conn.execute("DROP TABLE IF EXISTS link_candidates")
    result.seconds = time.monotonic() - started


def _status_line(result: SyncResult) -> str:
    lag = result.lag
    p50, p99 = lag.percentile(0.5), lag.percentile(0.99)
    shown = f"lag p50 {p50:.3f} s, p99 {p99:.3f} s" if p50 is not None and p99 is not None else "no lag yet"
    forwarded = sum(v for k, v in result.counts.items() if k.endswith(".forwarded"))
    return f"sync: {forwarded:,} changes forwarded in {result.forwardings:,} transactions; {shown}"
