"""The tests' one way to run the CLI and one small world; the local stack comes from the package's plugin.

`consolidate(database, *argv)` runs the command as an operator does, against DATABASE;
`apply(database, phase, ...)` / `rollback(...)` run a phase through the same driver in-process;
`small_world` is a fresh database holding the hand-built legacy world (tests/fixtures/merge);
`build_hand_built` the storage phase's hand-built world with its objects (tests/fixtures/storage).
The Hypothesis profiles of the property test (tests/test_properties.py): "ci", the default, a fixed
number of derandomized examples; "long", chosen with `--hypothesis-profile=long`, many more.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from consolidation.storage_migration.backends.local import LocalBackend
from hypothesis import HealthCheck, settings
from hypothesis import Phase as Stage

from consolidation.core import journal
from consolidation.core.config import Config
from consolidation.core.ddl import LockRetry
from consolidation.phases import driver
from consolidation.phases.contract import Events, QuietEvents
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")

# Each example is a whole database run through every phase by the `consolidate` command: slow by
# design, large by design (100 KB strings, JSON 1,000 deep), and never timed per example.
_SLOW_AND_LARGE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile(
    "ci",
    max_examples=4,
    derandomize=True,
    deadline=None,
    database=None,
    # Shrinking would re-run the pipeline for minutes; a failure prints its dataset instead.
    phases=[Stage.explicit, Stage.reuse, Stage.generate],
    suppress_health_check=_SLOW_AND_LARGE,
)
settings.register_profile(
    "long", max_examples=40, deadline=None, database=None, suppress_health_check=_SLOW_AND_LARGE
)
# The default; hypothesis's own plugin loads the one --hypothesis-profile names after this.
settings.load_profile("ci")
FIXTURES = Path(__file__).parent / "fixtures"
HAND_BUILT = FIXTURES / "merge" / "hand_built.sql"


def consolidate(
    database: LocalDatabase | None, *argv: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`consolidate ARGV` as an operator runs it against DATABASE (a wide terminal: no cut lines)."""
    import os

    environment = {**(database.environment() if database else os.environ), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [CONSOLIDATE, *argv], env=environment, capture_output=True, text=True, timeout=timeout
    )


def as_app(conn: psycopg.Connection, statement: str, params: list) -> None:
    """Run STATEMENT as PostgREST runs an authenticated user's request."""
    with conn.transaction():
        conn.execute("SET LOCAL ROLE authenticated")
        conn.execute(statement, params)


def migrated(conn: psycopg.Connection, count: int) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]]:
    """COUNT legacy booking messages merge migrated: (id, booking, sender, their chat message)."""
    return conn.execute(
        "SELECT m.id, m.booking_id, m.sender_id, p.chat_message_id FROM messages m "
        "JOIN consolidation.provenance p ON p.source_table = 'messages' AND p.source_id = m.id "
        "WHERE p.fate = 'migrated' AND m.booking_id IS NOT NULL ORDER BY m.id LIMIT %s",
        [count],
    ).fetchall()


def apply(
    database: LocalDatabase,
    phase: str,
    *,
    config: Config | None = None,
    force_order: bool = False,
    events: Events | None = None,
    **options: object,
) -> driver.Outcome:
    """`consolidate PHASE --apply` in-process, through the driver (gates, journal, verdict)."""
    with database.connect() as conn:
        ctx = driver.context(
            conn,
            config or Config(),
            database.url,
            environment=database.environment(),
            force_order=force_order,
            command=f"test: {phase} --apply",
            events=events,
            **options,
        )
        return driver.apply_phase(phase, ctx)


def rollback(
    database: LocalDatabase,
    phase: str,
    *,
    config: Config | None = None,
    force_order: bool = False,
    events: Events | None = None,
) -> driver.Outcome:
    """`consolidate PHASE rollback --apply` in-process."""
    with database.connect() as conn:
        ctx = driver.context(
            conn,
            config or Config(),
            database.url,
            environment=database.environment(),
            force_order=force_order,
            command=f"test: {phase} rollback --apply",
            events=events,
        )
        return driver.rollback_phase(phase, ctx)


class RetryEvents(QuietEvents):
    """Events that hand each lock retry to ON_RETRY (the tests that hold locks on purpose)."""

    def __init__(self, on_retry: Callable[[LockRetry], None]) -> None:
        self.on_retry = on_retry

    def retry(self, event: LockRetry) -> None:
        self.on_retry(event)


def load_hand_built(database: LocalDatabase) -> None:
    """The legacy schema and the hand-built world: every fate and anomaly in a few rows."""
    with database.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(HAND_BUILT.read_text(encoding="utf-8"))


@pytest.fixture
def small_world(empty_db: LocalDatabase) -> Iterator[LocalDatabase]:
    """A fresh database holding the hand-built legacy world."""
    load_hand_built(empty_db)
    yield empty_db


def fixture_objects() -> dict[tuple[str, str], tuple[bytes, str]]:
    spec = tomllib.loads((FIXTURES / "storage" / "objects.toml").read_text(encoding="utf-8"))
    return {
        (item["bucket"], item["name"]): (item["text"].encode() * item.get("repeat", 1), item["type"])
        for item in spec["objects"]
    }


def build_hand_built(database: LocalDatabase) -> None:
    """The legacy schema, the hand-built rows and their objects in DATABASE and its store."""
    with database.connect() as conn:
        apply_legacy_schema(conn)
        journal.install(conn, Config())
        conn.execute((FIXTURES / "storage" / "hand_built.sql").read_text(encoding="utf-8"))
    backend = LocalBackend(database.url, database.store_root)
    try:
        for (bucket, name), (data, content_type) in fixture_objects().items():
            backend.write(bucket, name, data, content_type)
    finally:
        backend.close()


def store_state(backend: LocalBackend) -> dict[tuple[str, str], str]:
    """Every object of every bucket and the sha256 of its bytes."""
    return {
        (bucket, info.name): hashlib.sha256(backend.read(bucket, info.name)).hexdigest()
        for bucket in ("chat-attachments", "voice-notes", "chat-files")
        for info in backend.list(bucket)
    }
