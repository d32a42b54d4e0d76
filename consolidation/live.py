"""A bounded live-app writer for the load test: steady legacy writes while merge and cut-over run."""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field

import psycopg

from consolidation.core.config import Config
from consolidation.core.session_key import message_id

# Loopback only, bounded: the writer stops after `writes` operations or when told to.
INSERT_MESSAGE = (
    "INSERT INTO messages (id, booking_id, sender_id, type, content, created_at) "
    "VALUES (%s, %s, %s, 'text', %s, clock_timestamp())"
)
UPDATE_MESSAGE = "UPDATE messages SET content = %s WHERE id = %s"
INSERT_VOICE = (
    "INSERT INTO voice_notes (id, user_id, context_type, context_id, file_url, file_name, file_size, "
    "duration_seconds, created_at) VALUES (%s, %s, 'chat', %s, %s, %s, 1000, 1.5, clock_timestamp())"
)


@dataclass
class WriterReport:
    """What the writer did: latencies per window, errors, and the latest content of each row."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)
    messages: dict[uuid.UUID, str] = field(default_factory=dict)
    voice_notes: set[uuid.UUID] = field(default_factory=set)

    def percentile(self, window: str, q: float) -> float:
        values = sorted(self.latencies.get(window, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))]

    def median(self, window: str) -> float:
        return statistics.median(self.latencies[window]) if self.latencies.get(window) else float("nan")


class LegacyWriter(threading.Thread):
    """Inserts and updates legacy messages and voice notes at a steady rate, as the app does,
    timing each write; `window` names the phase the next writes are counted under."""

    def __init__(self, url: str, *, writes: int, rate: float, seed: int = 1) -> None:
        super().__init__(daemon=True)
        self.url, self.writes, self.interval = url, writes, 1.0 / rate
        self.random = random.Random(seed)
        self.window = "idle"
        self.stop_event = threading.Event()
        self.report = WriterReport()
        # The latest messages written, which the edits pick from.
        self.recent: deque[uuid.UUID] = deque(maxlen=500)

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            # The app writes as a booking's user: a booking without one (the seed has such) is
            # no place for it to write.
            pairs = conn.execute(
                "SELECT id, user_id FROM bookings WHERE user_id IS NOT NULL ORDER BY id LIMIT 200"
            ).fetchall()
            next_at = time.perf_counter()
            for n in range(self.writes):
                if self.stop_event.is_set():
                    break
                next_at += self.interval
                self._one(conn, n, self.random.choice(pairs))
                time.sleep(max(0.0, next_at - time.perf_counter()))

    def _one(self, conn: psycopg.Connection, n: int, pair: tuple[uuid.UUID, uuid.UUID]) -> None:
        report, window = self.report, self.window
        roll = self.random.random()
        # Chosen before the clock starts: only the database's time is measured.
        target = self.random.choice(self.recent) if self.recent else None
        started = time.perf_counter()
        try:
            if roll < 0.2 and target is not None:
                content = f"edit {n}"
                conn.execute(UPDATE_MESSAGE, [content, target])
                report.messages[target] = content
                kind = "update message"
            elif roll < 0.3:
                new = uuid.uuid4()
                conn.execute(
                    INSERT_VOICE, [new, pair[1], pair[0], f"voice-notes/{pair[1]}/{new}.webm", f"{new}.webm"]
                )
                report.voice_notes.add(new)
                kind = "insert voice note"
            else:
                new = uuid.uuid4()
                content = f"live {n}"
                conn.execute(INSERT_MESSAGE, [new, pair[0], pair[1], content])
                report.messages[new] = content
                self.recent.append(new)
                kind = "insert message"
        except psycopg.Error as exc:
            report.errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
            return
        report.latencies.setdefault(window, []).append(time.perf_counter() - started)
        report.operations[kind] += 1


@dataclass
class Outcome:
    """Whether every row the writer wrote is in chat_messages exactly once, with its latest content."""

    missing: list[str]
    stale: list[str]
    duplicates: int


def check(conn: psycopg.Connection, config: Config, report: WriterReport) -> Outcome:
    namespace = config.session_rule.direct_namespace
    found = dict(
        conn.execute(
            "SELECT id, content FROM chat_messages WHERE id = ANY (%s)",
            [
                [message_id(namespace, "messages", i) for i in report.messages]
                + [message_id(namespace, "voice_notes", i) for i in report.voice_notes]
            ],
        ).fetchall()
    )
    missing, stale = [], []
    for source_id, content in report.messages.items():
        chat_id = message_id(namespace, "messages", source_id)
        if chat_id not in found:
            missing.append(f"messages {source_id}")
        elif found[chat_id] != content:
            stale.append(f"messages {source_id}: {found[chat_id]!r} != {content!r}")
    missing += [
        f"voice_notes {i}" for i in report.voice_notes if message_id(namespace, "voice_notes", i) not in found
    ]
    duplicates = conn.execute(
        "SELECT count(*) - count(DISTINCT chat_message_id) FROM consolidation.provenance"
    ).fetchone()[0]
    return Outcome(missing, stale, duplicates)


def cpu_times() -> tuple[int, int] | None:
    """The machine's CPU time so far and the part of it stolen by the hypervisor (ticks, from
    /proc/stat), or None where that is not readable (not Linux)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(fields[:8]), fields[7] if len(fields) > 7 else 0


def steal_percent(since: tuple[int, int] | None, until: tuple[int, int] | None) -> float | None:
    """The share of CPU time the hypervisor took between two cpu_times() readings, in percent:
    time the writer and the database could not run whatever the tool did."""
    if since is None or until is None or until[0] <= since[0]:
        return None
    return 100.0 * (until[1] - since[1]) / (until[0] - since[0])


@dataclass
class LiveResult:
    report: WriterReport
    outcome: Outcome
    merge_seconds: float
    cutover_seconds: float
    merge_exit: int
    cutover_exit: int
    output: str
    # Per window ("idle", "merge"): the share of CPU time stolen by the hypervisor, in percent.
    steal: dict[str, float | None] = field(default_factory=dict)


def run_live(
    url: str,
    env: dict[str, str],
    consolidate: str,
    *,
    writes: int,
    rate: float,
    idle_seconds: float,
    workers: int | None = None,
    pause_ratio: float | None = None,
) -> LiveResult:
    """Writer warmed up for a second and idle for IDLE_SECONDS, then `merge --apply` while it
    writes, then the writer stops (the app switched) and `cutover --apply` runs; then check every
    row the writer wrote."""
    import subprocess

    writer = LegacyWriter(url, writes=writes, rate=rate)
    writer.window = "warm-up"  # its first second (connecting, first plans) is no one's baseline
    writer.start()
    time.sleep(1.0)
    writer.window = "idle"
    idle_from = cpu_times()
    time.sleep(idle_seconds)
    writer.window = "merge"
    merge_from = cpu_times()
    started = time.perf_counter()
    command = [consolidate, "merge", "--apply", "--force-order"]
    if workers:
        command += ["--workers", str(workers)]
    if pause_ratio is not None:
        command += ["--pause-ratio", str(pause_ratio)]
    merged = subprocess.run(command, env=env, capture_output=True, text=True)
    merge_seconds = time.perf_counter() - started
    merge_until = cpu_times()
    writer.window = "after merge"
    time.sleep(min(1.0, idle_seconds))
    writer.stop_event.set()
    writer.join(timeout=60)
    started = time.perf_counter()
    cut = subprocess.run(
        [consolidate, "cutover", "--apply", "--force-order"], env=env, capture_output=True, text=True
    )
    cutover_seconds = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        outcome = check(conn, Config(), writer.report)
    return LiveResult(
        writer.report,
        outcome,
        merge_seconds,
        cutover_seconds,
        merged.returncode,
        cut.returncode,
        merged.stdout + merged.stderr + cut.stdout + cut.stderr,
        {"idle": steal_percent(idle_from, merge_from), "merge": steal_percent(merge_from, merge_until)},
    )
