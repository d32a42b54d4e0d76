"""The bounded-lock executor: every lock wait bounded by lock_timeout, retried with backoff, once.

Phases change a live database: a statement that must wait for a lock (DDL, a batch that meets
an app's transaction) waits at most `lock_timeout`, then is retried with exponential backoff and
jitter. Each retry is reported; giving up names the sessions that held the locks. This is the one
place the loop lives: merge's batches, capture's triggers, the cut-over, the policies, the
constraints and drift alignment all run through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import psycopg
from psycopg import errors
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential, wait_random

from consolidation.core import sqlfiles
from consolidation.core.errors import PhaseBusyError

T = TypeVar("T")

# Failures another session causes and a later attempt can get past.
CONTENTION = (errors.LockNotAvailable, errors.SerializationFailure, errors.DeadlockDetected)


def contention_retrying(max_retries: int) -> Retrying:
    """Retry what lost to a lock timeout, a serialization failure or a deadlock, with exponential
    backoff and jitter; any other error, or the last failure, is raised."""
    return Retrying(
        retry=retry_if_exception_type(CONTENTION),
        stop=stop_after_attempt(max_retries + 1),
        wait=wait_exponential(multiplier=0.1, max=10) + wait_random(0, 0.1),
        reraise=True,
    )


@dataclass(frozen=True)
class LockRetry:
    """A step that lost to a lock (or a deadlock, or a serialization failure) and is retried."""

    step: str
    attempt: int
    sqlstate: str
    error: str


RetryHook = Callable[[LockRetry], None]


@dataclass
class BoundedExecutor:
    """Runs work on CONN (autocommit) with bounded lock waits, retrying what lost to contention.

    `transaction` work runs in a transaction of its own with the timeouts set for it alone;
    `statement` work runs outside any transaction (CREATE INDEX CONCURRENTLY) under the same
    timeouts set for the session and restored after.
    """

    conn: psycopg.Connection
    lock_timeout_ms: int
    max_retries: int
    statement_timeout_ms: int | None = None
    # Extra transaction-local settings (name -> value), e.g. merge's work_mem.
    settings: dict[str, str] = field(default_factory=dict)
    on_retry: RetryHook | None = None
    # Tables whose lock holders are named when the executor gives up.
    tables: Sequence[str] = ()
    retries: list[LockRetry] = field(default_factory=list)

    def _chosen(self) -> dict[str, str]:
        chosen = {"lock_timeout": f"{self.lock_timeout_ms}ms"}
        if self.statement_timeout_ms is not None:
            chosen["statement_timeout"] = f"{self.statement_timeout_ms}ms"
        return {**chosen, **self.settings}

    def _set(self, values: dict[str, str], *, local: bool) -> None:
        for name, value in values.items():
            self.conn.execute("SELECT set_config(%s, %s, %s)", [name, value, local])

    def transaction(self, label: str, work: Callable[[], T]) -> T:
        """Run WORK in one transaction, retried whole when it loses to contention."""

        def once() -> T:
            with self.conn.transaction():
                self._set(self._chosen(), local=True)
                return work()

        return self.retrying(label, once)

    def statements(self, label: str, statements: Sequence[str]) -> int:
        """Run STATEMENTS in one transaction; returns the attempts it took."""
        attempts = 0

        def work() -> None:
            nonlocal attempts
            attempts += 1
            for statement in statements:
                self.conn.execute(statement)

        self.transaction(label, work)
        return attempts

    def statement(self, label: str, work: Callable[[], T]) -> T:
        """Run WORK outside a transaction (each statement commits on its own), retried."""
        return self.retrying(label, lambda: self._with_session_timeouts(work))

    def _with_session_timeouts(self, work: Callable[[], T]) -> T:
        with self.session_timeouts():
            return work()

    @contextmanager
    def session_timeouts(self) -> Iterator[None]:
        """The executor's timeouts for CONN's session, the previous ones restored after."""
        chosen = self._chosen()
        previous = {
            name: self.conn.execute("SELECT current_setting(%s)", [name]).fetchone()[0] for name in chosen
        }
        self._set(chosen, local=False)
        try:
            yield
        finally:
            if not self.conn.closed and not self.conn.broken:
                self._set(previous, local=False)

    def retrying(self, label: str, once: Callable[[], T]) -> T:
        """Run ONCE (which manages its own transactions and timeouts), retried on contention."""
        try:
            for attempt in contention_retrying(self.max_retries):
                with attempt:
                    try:
                        return once()
                    except CONTENTION as exc:
                        event = LockRetry(
                            label,
                            attempt.retry_state.attempt_number,
                            exc.sqlstate or "",
                            str(exc).strip().splitlines()[0],
                        )
                        self.retries.append(event)
                        if self.on_retry:
                            self.on_retry(event)
                        raise
        except CONTENTION as exc:
            raise self._gave_up(label, exc) from exc
        raise AssertionError("contention_retrying either returns or raises")

    def _gave_up(self, label: str, exc: Exception) -> PhaseBusyError:
        holders = []
        if self.tables and not self.conn.broken:
            holders = self.conn.execute(
                sqlfiles.load("constraints/030_lock_holders.sql"), {"tables": list(self.tables)}
            ).fetchall()
        named = "; ".join(
            f"pid {pid} ({mode}, {app or 'no application name'}, {state})"
            for pid, mode, app, state, _ in holders
        )
        return PhaseBusyError(
            f"{label}: gave up after {self.max_retries} retries ({str(exc).strip()})"
            + (f"; locks held by other sessions: {named or 'none any more'}" if self.tables else ""),
            hint="wait for those sessions or end them (pg_terminate_backend(pid)); then re-run the same "
            "command: it resumes",
        )
