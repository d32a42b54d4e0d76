"""The phase contract: the one shape every phase has (plan, apply, verify, rollback) and its types.

Every phase is a class with the same verbs, checked against `Phase` by the registry:

- plan(ctx) reads only and returns the steps it would run (their exact SQL, or the object
  operations), the counts they touch, and a hash of the steps;
- apply(ctx, plan) runs exactly plan.steps;
- verify(ctx) returns findings (an empty report proves the phase);
- rollback_plan(ctx) / rollback(ctx, plan) likewise undo exactly what apply did.

The promises around them — preview by default, nothing written without --apply or on a
refusal, gates on the phases a phase builds on, a plan that no longer matches the database is
refused, re-apply is a no-op, verdicts and rollbacks journaled honestly — are kept once, by
consolidation.phases.driver, for every phase alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import psycopg

from consolidation.core.config import Config
from consolidation.core.ddl import LockRetry
from consolidation.core.journal import PhaseRecord

Action = Literal["apply", "rollback"]
# The most bytes of a step's name its file name keeps (the rest of 255: number, phase, hash).
FILE_NAME_BYTES = 160


@dataclass(frozen=True)
class Step:
    """One thing a phase does, as the operator previews it and as it runs: a statement's exact
    SQL text, or an object operation ("copy chat-attachments/a.png -> chat-files/…")."""

    phase: str
    name: str
    sql: str = ""
    operation: str = ""
    # False: runs outside a transaction, on its own (CREATE INDEX CONCURRENTLY).
    transactional: bool = True
    # What the step repeats over ("per batch", "per captured change"); "" runs once.
    repeats: str = ""

    @property
    def text(self) -> str:
        return self.sql or self.operation

    @property
    def kind(self) -> str:
        return "sql" if self.sql else "operation"

    @property
    def file_name(self) -> str:
        safe = "".join(char if char.isalnum() or char in "._-" else "_" for char in self.name)
        if len(safe.encode()) > FILE_NAME_BYTES:
            # A file system takes 255 bytes a name (a rewrite 1,000 JSON levels deep names more):
            # cut, with the whole name's hash so that two long names stay two files.
            cut = safe.encode()[:FILE_NAME_BYTES].decode(errors="ignore")
            safe = f"{cut}_{hashlib.sha256(self.name.encode()).hexdigest()[:12]}"
        return f"{self.phase}__{safe}.sql"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "text": self.text,
            "transactional": self.transactional,
            "repeats": self.repeats,
        }


def steps_hash(phase: str, action: str, steps: list[Step]) -> str:
    """The hash of a plan's steps: what the journal records as run, and what the preview shows."""
    canonical = json.dumps(
        {"phase": phase, "action": action, "steps": [step.as_json() for step in steps]},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Finding:
    """One discrepancy a verification found, or one reason a plan cannot be applied."""

    check: str
    where: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"check": self.check, "where": self.where, "detail": self.detail}


@dataclass
class Plan:
    """What a phase would do from here: its steps, the counts they touch, and notes."""

    phase: str
    action: Action = "apply"
    steps: list[Step] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Why apply would refuse (rows that violate a constraint, a verification that failed):
    # shown by the preview, refused by apply before anything is written.
    blockers: list[Finding] = field(default_factory=list)
    # What the planning read found that apply needs to run the steps (not part of the hash:
    # the steps' text is).
    state: dict[str, Any] = field(default_factory=dict)
    # Files a reviewer signs off besides the steps (name -> exact bytes), made only when asked
    # (`plan --out DIR` writes them): the storage phase's move map.
    files: Callable[[], dict[str, bytes]] | None = None

    @property
    def hash(self) -> str:
        return steps_hash(self.phase, self.action, self.steps)

    @property
    def empty(self) -> bool:
        return not self.steps

    def as_json(self, *, with_steps: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "phase": self.phase,
            "action": self.action,
            "hash": self.hash,
            "counts": self.counts,
            "notes": self.notes,
            "blockers": [blocker.as_json() for blocker in self.blockers],
        }
        if with_steps:
            out["steps"] = [step.as_json() for step in self.steps]
        else:
            out["step_count"] = len(self.steps)
        return out


@dataclass
class Report:
    """A verification: findings per check (every check listed, 0 when it passed), the first
    findings of each, and what was left alone on purpose (notes)."""

    phase: str
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not any(self.counts.values())

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "clean": self.clean,
            "counts": self.counts,
            "findings": [finding.as_json() for finding in self.findings],
            "notes": self.notes,
        }


@dataclass
class Result:
    """What an apply or rollback did: its counts and details (journaled with it)."""

    phase: str
    action: Action
    counts: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class Events(Protocol):
    """How a running phase tells the operator what it does (the CLI draws bars or lines)."""

    def progress(self, task: str, advance: int = 0, *, total: int | None = None) -> None: ...

    def say(self, text: str) -> None: ...

    def retry(self, event: LockRetry) -> None: ...


class QuietEvents:
    """Events nobody watches: library use and tests."""

    def progress(self, task: str, advance: int = 0, *, total: int | None = None) -> None:
        return None

    def say(self, text: str) -> None:
        return None

    def retry(self, event: LockRetry) -> None:
        return None


@dataclass(frozen=True)
class Option:
    """A phase's own option (merge's --batch-size...), declared once for the CLI and the library."""

    name: str
    type: type
    help: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def cli_name(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass
class Context:
    """What a phase runs with: one autocommit connection, the configuration, its options."""

    conn: psycopg.Connection
    config: Config
    database_url: str
    options: dict[str, Any] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    events: Events = field(default_factory=QuietEvents)
    # The command line as the operator gave it (the journal records it with the run).
    command: str = ""
    # --force-order: run although a phase this one builds on is not applied and verified.
    force_order: bool = False
    # The phase's journal record while the driver applies or rolls it back.
    record: PhaseRecord | None = None

    def option(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name)
        return default if value is None else value


@runtime_checkable
class Phase(Protocol):
    """One consolidation phase; every phase in the registry implements exactly this."""

    name: ClassVar[str]
    # The phases this one builds on: each must be applied and verified before it runs.
    requires: ClassVar[tuple[str, ...]]
    # The mapped tables it reads or writes, checked against the database before anything runs.
    tables: ClassVar[tuple[str, ...]]
    summary: ClassVar[str]
    options: ClassVar[tuple[Option, ...]]

    def plan(self, ctx: Context, *, counts: bool = True) -> Plan:
        """Read-only: the steps apply would run from here. COUNTS False skips costly counting
        that changes neither the steps nor what apply checks itself before it writes (an apply
        the operator previewed already; the driver's re-plan under the lock)."""
        ...

    def apply(self, ctx: Context, plan: Plan) -> Result: ...

    def verify(self, ctx: Context) -> Report: ...

    def rollback_plan(self, ctx: Context) -> Plan: ...

    def rollback(self, ctx: Context, plan: Plan) -> Result: ...


def first_per_check(findings: Iterable[Finding], shown: int) -> tuple[dict[str, int], list[Finding]]:
    """Count findings per check and keep the first SHOWN of each."""
    counts: dict[str, int] = {}
    kept: list[Finding] = []
    for finding in findings:
        counts[finding.check] = counts.get(finding.check, 0) + 1
        if counts[finding.check] <= shown:
            kept.append(finding)
    return counts, kept


def command(*argv: str) -> str:
    """A command the operator can run, as every hint spells it (a test parses each one)."""
    return "`consolidate " + " ".join(argv) + "`"


def write_steps(steps: list[Step], directory: Path) -> list[Path]:
    """One reviewable .sql file per step, numbered in run order (operations as comments)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for number, step in enumerate(steps, start=1):
        path = directory / f"{number:03d}_{step.file_name}"
        body = step.sql.rstrip() if step.sql else f"-- operation: {step.operation}"
        repeats = f", runs {step.repeats}" if step.repeats else ""
        path.write_text(f"-- phase {step.phase}, step {step.name}{repeats}\n{body}\n", encoding="utf-8")
        written.append(path)
    return written


def flat_counts(counts: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested counts as one level of "outer: inner" rows, for tables."""
    rows: dict[str, Any] = {}
    for key, value in counts.items():
        if isinstance(value, Mapping):
            rows.update(flat_counts(value, f"{prefix}{key}: "))
        else:
            rows[f"{prefix}{key}"] = value
    return rows
