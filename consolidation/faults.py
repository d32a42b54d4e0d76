"""Fault trials: SIGKILL a phase at seeded random points, re-run it, and compare with an uninterrupted run.

Each phase runs as an operator runs it, through the `consolidate` command, on clones of one
database (data and file store). It runs twice uninterrupted (the reference, and a control that
must match it), then once per trial killed after a delay the seeded RNG draws within the
quicker run's phase duration, counted from the moment the phase's journal record appears. A
trial killed before its phase completed is re-run to completion (one the kill did not
interrupt is not: re-running a completed backup takes a second backup by design). A trial
passes when the re-run and the phase's checks exit 0 and the fingerprint equals the
reference's: per surface (table, object rows, file store, catalog), the same multiset of row
digests. Rows the reference has and the trial lacks are lost; rows beyond the reference's are
duplicates (a file in the store that no object row names counts there too).

The fingerprint leaves out only what legitimately differs between two runs of the same work:
the run log (tool tables `runs`, `phase_records`: a killed run adds a run and leaves its record
'running'); in the tool's other tables, the backups and storage.buckets, the columns filled in
at write time (a default of now(), clock_timestamp(), transaction_timestamp(),
statement_timestamp(), CURRENT_TIMESTAMP, nextval() or gen_random_uuid()) and the run's own
numbering (`batch`, `batches`, `pass`, `run_id`, `record_id`); backup schemas' names (backup
tables are compared by table name, all backups pooled); storage object rows' `id`, `version`,
time columns and `metadata.lastModified`; the version folder of a file in the store. Every
column of the application's tables is compared, and so are policies, RLS flags, privileges,
functions, indexes (validity included) and triggers, and the snapshot `policies rollback`
would restore.
"""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import errors, sql

from consolidation.core import sqlfiles
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.names import BACKUP_TABLES, identifiers, table
from consolidation.phases.backup import SCHEMA_PREFIX
from consolidation.stack import STORE_BUCKET, TENANT

CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")
RUN_LOG = ("runs", "phase_records")
# The run's own numbering: batch numbers, counts of batches and of sweeps (a resumed merge
# sweeps once more), the run and record a row was written in.
RUN_NUMBERING = ("batch", "batches", "pass", "run_id", "record_id")
# Columns a phase sets to the clock when it has done a piece of work: that it is set is the
# work, when is not.
DONE_STAMPS = ("forwarded_at",)
STAMPED = (
    r"^(nextval|now|clock_timestamp|transaction_timestamp|statement_timestamp|gen_random_uuid)\("
    r"|^CURRENT_TIMESTAMP"
)
POLL_SECONDS = 0.005
MID_PHASE, BEFORE, AFTER, NOT_KILLED = "mid-phase", "before the phase", "after the phase", "not killed"
WAIT_SECONDS = 120.0

STORE, STRAYS = "file store", "file store: files no object row names"

Fingerprint = dict[str, Counter[str]]


class Database(Protocol):
    """A database and its file store, as the pytest plugin's LocalDatabase is."""

    @property
    def url(self) -> str: ...

    @property
    def store_root(self) -> Path: ...

    def environment(self) -> dict[str, str]: ...


class Cluster(Protocol):
    """Makes and drops clones of a database, as the pytest plugin's LocalCluster does."""

    def create(self, name: str, *, template: Any = None) -> Any: ...

    def drop(self, database: Any) -> None: ...


@dataclass(frozen=True)
class Phase:
    """A phase as the operator runs it, and the commands that must pass after it."""

    name: str
    command: tuple[str, ...]
    action: str = "apply"
    checks: tuple[tuple[str, ...], ...] = ()

    @property
    def label(self) -> str:
        return " ".join(self.command)


def default_phases(batch_size: int = 25) -> list[Phase]:
    """Every phase of the registry in run order, each tried on the state the ones before it leave,
    checked by its own verification and the whole one."""
    from consolidation.phases.registry import REGISTRY

    extra = {"merge": ("--batch-size", str(batch_size))}
    return [
        Phase(
            phase.name, (phase.name, "--apply", *extra.get(phase.name, ())), checks=((phase.name, "verify"),)
        )
        for phase in REGISTRY
    ]


@dataclass(frozen=True)
class Difference:
    """One surface of the fingerprint that differs: rows the reference has and the trial lacks
    (lost), and rows the trial has beyond the reference's (extra: duplicates or strays)."""

    surface: str
    lost: int
    extra: int

    @property
    def of_rows(self) -> bool:
        """Whether it counts rows of data (tables, objects, files), not catalog or journal entries."""
        return not self.surface.startswith(("catalog: ", "journal: "))


@dataclass
class Trial:
    """One kill: its delay after the phase's record appeared, where it landed, and what followed."""

    delay: float
    landed: str
    rerun_exit: int
    failed_checks: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def mismatch(self) -> bool:
        return bool(self.rerun_exit or self.failed_checks or self.differences)

    @property
    def lost(self) -> int:
        return sum(d.lost for d in self.differences if d.of_rows)

    @property
    def duplicates(self) -> int:
        return sum(d.extra for d in self.differences if d.of_rows)


@dataclass
class PhaseReport:
    """The trials of one phase, and the control: a second uninterrupted run, which must match the
    first (else the product is not deterministic there, or the fingerprint keeps a write stamp)."""

    phase: Phase
    reference_seconds: float
    control_differences: list[Difference] = field(default_factory=list)
    trials: list[Trial] = field(default_factory=list)

    @property
    def mid_phase(self) -> int:
        return sum(t.landed == MID_PHASE for t in self.trials)

    @property
    def mismatches(self) -> int:
        return sum(t.mismatch for t in self.trials)

    @property
    def duplicates(self) -> int:
        return sum(t.duplicates for t in self.trials)

    @property
    def lost(self) -> int:
        return sum(t.lost for t in self.trials)

    @property
    def clean(self) -> bool:
        return not (self.control_differences or self.mismatches or self.duplicates or self.lost)


# --- running the command ---------------------------------------------------------------------------


def consolidate(
    database: Database, command: Sequence[str], timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run the consolidate command COMMAND against DATABASE, as an operator would."""
    return subprocess.run(
        [CONSOLIDATE, *command], env=database.environment(), capture_output=True, text=True, timeout=timeout
    )


def _require(done: subprocess.CompletedProcess, what: str) -> None:
    if done.returncode != 0:
        raise RuntimeError(f"`consolidate {what}` exited {done.returncode}: {done.stderr[-2000:]}")


def newest_record(conn: psycopg.Connection, config: Config, phase: Phase) -> tuple[int, str] | None:
    """The newest journal record of PHASE as (id, status); None also while there is no journal."""
    try:
        row = conn.execute(
            sqlfiles.render("faults/newest_record.sql", identifiers(config)),
            {"phase": phase.name, "action": phase.action},
        ).fetchone()
    except errors.UndefinedTable:
        return None
    return (row[0], row[1]) if row else None


def wait_for_record(
    conn: psycopg.Connection, config: Config, phase: Phase, after: int, process: subprocess.Popen
) -> bool:
    """Poll until PHASE has a journal record newer than AFTER; False if PROCESS ended first."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = newest_record(conn, config, phase)
        if found and found[0] > after:
            return True
        if process.poll() is not None:
            return False
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"`consolidate {phase.label}` recorded no phase within {WAIT_SECONDS:.0f} s")


def wait_for_clients_gone(conn: psycopg.Connection) -> None:
    """A killed client's backend finishes its statement before it notices: wait until it has."""
    deadline = time.monotonic() + WAIT_SECONDS
    while conn.execute(sqlfiles.load("faults/other_clients.sql")).fetchone()[0]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the killed run's sessions did not end within {WAIT_SECONDS:.0f} s")
        time.sleep(0.02)


def phase_seconds(database: Database, config: Config, phase: Phase) -> float:
    """How long PHASE's newest completed run on DATABASE took, by its journal record."""
    with psycopg.connect(database.url, autocommit=True) as conn:
        row = conn.execute(
            sqlfiles.render("faults/phase_seconds.sql", identifiers(config)),
            {"phase": phase.name, "action": phase.action},
        ).fetchone()
    if row is None:
        raise RuntimeError(f"`consolidate {phase.label}` recorded no completed phase {phase.name}")
    return float(row[0])


def kill_part_way(database: Database, config: Config, phase: Phase, delay: float) -> str:
    """Run PHASE, SIGKILL it DELAY seconds after its journal record appears, wait for its sessions
    to end; say where the kill landed: "mid-phase" (its record left 'running'), "before the phase"
    (no record yet), "after the phase" (record completed), or "not killed" (it ended first)."""
    with psycopg.connect(database.url, autocommit=True) as watcher:
        before = newest_record(watcher, config, phase)
        process = subprocess.Popen(
            [CONSOLIDATE, *phase.command],
            env=database.environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if wait_for_record(watcher, config, phase, before[0] if before else 0, process):
                time.sleep(delay)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=WAIT_SECONDS)
        wait_for_clients_gone(watcher)
        record = newest_record(watcher, config, phase)
    if process.returncode != -signal.SIGKILL:
        return NOT_KILLED
    if record is None or record == before:
        return BEFORE
    return MID_PHASE if record[1] == "running" else AFTER


# --- the fingerprint ---------------------------------------------------------------------------------


def _digests(
    conn: psycopg.Connection, query: str | sql.Composable, params: dict[str, Any] | None = None
) -> Counter[str]:
    return Counter(row[0] for row in conn.execute(query, params))


def _tables(conn: psycopg.Connection, schema: str, *, prefix: bool = False) -> list[tuple[str, str]]:
    """The tables of SCHEMA (or of every schema whose name starts with it)."""
    literal = schema.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = literal + ("%" if prefix else "")
    rows = conn.execute(sqlfiles.load("faults/tables.sql"), {"pattern": pattern})
    return [(row[0], row[1]) for row in rows]


def _whole_rows(conn: psycopg.Connection, relation: sql.Identifier) -> Counter[str]:
    return _digests(conn, sql.SQL("SELECT md5(t::text) FROM {} AS t").format(relation))


def _work_rows(conn: psycopg.Connection, schema: str, name: str) -> Counter[str]:
    """Rows by the columns that hold the work, not by when or in which run they were written."""
    kept = conn.execute(
        sqlfiles.load("faults/kept_columns.sql"),
        {"schema": schema, "table": name, "numbering": list(RUN_NUMBERING), "stamped": STAMPED},
    ).fetchall()
    names = [sql.Identifier(row[0]) for row in kept]
    columns = sql.SQL(", ").join(
        sql.SQL("{} IS NOT NULL").format(name) if row[0] in DONE_STAMPS else name
        for row, name in zip(kept, names, strict=True)
    )
    return _digests(
        conn, sql.SQL("SELECT md5(ROW({})::text) FROM {}").format(columns, sql.Identifier(schema, name))
    )


def _store_files(conn: psycopg.Connection, store_root: Path) -> Fingerprint:
    """Every file of the store as bucket/name and the sha256 of its bytes (its version folder left
    out): those an object row names, and strays no row names (a write whose row never committed)."""
    named = {tuple(row) for row in conn.execute(sqlfiles.load("faults/object_versions.sql"))}
    base = store_root / STORE_BUCKET / TENANT
    found: Fingerprint = {STORE: Counter(), STRAYS: Counter()}
    for path in base.rglob("*"):
        if path.is_file():
            bucket, *parts, version = path.relative_to(base).parts
            name = "/".join(parts)
            surface = STORE if (bucket, name, version) in named else STRAYS
            found[surface][f"{bucket}/{name}:{hashlib.sha256(path.read_bytes()).hexdigest()}"] += 1
    return found


def fingerprint(database: Database, config: Config | None = None) -> Fingerprint:
    """The database's and the store's state, as a multiset of row digests per surface."""
    config = config or Config()
    tool = config.journal.schema_
    surfaces: Fingerprint = {}
    with psycopg.connect(database.url, autocommit=True) as conn:
        fix_output_settings(conn)
        for name in BACKUP_TABLES:
            surfaces[f"{config.tables.schema_}.{getattr(config.tables, name)}"] = _whole_rows(
                conn, table(config, name)
            )
        journal_tables = _tables(conn, tool)
        for schema, name in journal_tables:
            if name not in RUN_LOG:
                surfaces[f"{schema}.{name}"] = _work_rows(conn, schema, name)
        for schema, name in _tables(conn, SCHEMA_PREFIX, prefix=True):
            surfaces.setdefault(f"backup.{name}", Counter()).update(_work_rows(conn, schema, name))
        surfaces["storage.buckets"] = _work_rows(conn, "storage", "buckets")
        surfaces["storage.objects"] = _digests(conn, sqlfiles.load("faults/storage_objects.sql"))
        schemas = [config.tables.schema_, "storage", tool, config.policies.helper_schema]
        for relative in sqlfiles.files("faults/catalog"):
            surfaces[f"catalog: {Path(relative).stem}"] = _digests(
                conn, sqlfiles.load(relative), {"schemas": schemas}
            )
        if (tool, "phase_records") in journal_tables:
            surfaces["journal: policies rollback snapshot"] = _digests(
                conn, sqlfiles.render("faults/policies_snapshot.sql", identifiers(config))
            )
        surfaces.update(_store_files(conn, database.store_root))
    return surfaces


def compare(expected: Fingerprint, found: Fingerprint) -> list[Difference]:
    """The surfaces where FOUND differs from EXPECTED, with the rows lost and the rows extra."""
    differences = []
    for surface in sorted(expected.keys() | found.keys()):
        want, have = expected.get(surface, Counter()), found.get(surface, Counter())
        lost, extra = sum((want - have).values()), sum((have - want).values())
        if lost or extra:
            differences.append(Difference(surface, lost, extra))
    return differences


# --- the trials --------------------------------------------------------------------------------------


def run_trials(
    phases: Sequence[Phase],
    cluster: Cluster,
    seeded: Database,
    *,
    trials: int,
    seed: int,
    prefix: str = "faults",
    config: Config | None = None,
    check_trials: bool = True,
    on_trial: Callable[[Phase, Trial], None] | None = None,
) -> list[PhaseReport]:
    """Try each phase TRIALS times on clones of the state the phases before it leave, starting
    from SEEDED; the same SEED draws the same kill delays (the machine's timing does the rest).

    The phase's checks must pass on the reference; with CHECK_TRIALS they run after every trial
    too (a trial fingerprinted equal to the reference passes them anyway: a quicker short form).
    """
    config = config or Config()
    reports = []
    base = cluster.create(f"{prefix}_base", template=seeded)
    try:
        for number, phase in enumerate(phases):
            reference = cluster.create(f"{prefix}_{number}_reference", template=base)
            try:
                reports.append(_phase_trials(
                    cluster, base, reference, phase, trials, seed, config, check_trials, on_trial
                ))
            except BaseException:
                cluster.drop(reference)
                raise
            # The next phase starts from where this one ends uninterrupted.
            cluster.drop(base)
            base = reference
    finally:
        cluster.drop(base)
    return reports


def _phase_trials(
    cluster: Cluster, base: Database, reference: Database, phase: Phase, trials: int, seed: int,
    config: Config, check_trials: bool, on_trial: Callable[[Phase, Trial], None] | None,
) -> PhaseReport:
    _require(consolidate(reference, phase.command), phase.label)
    for check in phase.checks:
        _require(consolidate(reference, check), " ".join(check))
    expected = fingerprint(reference, config)
    control = cluster.create(f"{getattr(reference, 'name', 'faults')}_control", template=base)
    try:
        _require(consolidate(control, phase.command), phase.label)
        # Kills are drawn within the quicker of the two runs, so most land before the end.
        seconds = min(phase_seconds(reference, config, phase), phase_seconds(control, config, phase))
        report = PhaseReport(phase, seconds, compare(expected, fingerprint(control, config)))
    finally:
        cluster.drop(control)
    rng = random.Random(f"{seed}/{phase.label}")
    for attempt in range(trials):
        name = f"{getattr(reference, 'name', 'faults')}_trial_{attempt}"
        delay = rng.uniform(0, report.reference_seconds)
        trial = _trial(cluster, base, phase, expected, delay, name, config, check_trials)
        report.trials.append(trial)
        if on_trial:
            on_trial(phase, trial)
    return report


def _trial(
    cluster: Cluster, base: Database, phase: Phase, expected: Fingerprint, delay: float, name: str,
    config: Config, check: bool,
) -> Trial:
    database = cluster.create(name, template=base)
    try:
        landed = kill_part_way(database, config, phase, delay)
        # A run the kill did not interrupt is complete: running it again would be a new request
        # (a second backup), not recovery.
        rerun = consolidate(database, phase.command).returncode if landed in (MID_PHASE, BEFORE) else 0
        checks = phase.checks if check else ()
        failed = [" ".join(command) for command in checks if consolidate(database, command).returncode != 0]
        return Trial(
            delay=delay,
            landed=landed,
            rerun_exit=rerun,
            failed_checks=failed,
            differences=compare(expected, fingerprint(database, config)),
        )
    finally:
        cluster.drop(database)
