"""Change capture: triggers on the legacy sources log every change, for merge to forward."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.ddl import BoundedExecutor
from consolidation.core.names import identifiers

INSTALL_FILES = ("capture/010_functions.sql", "capture/020_triggers.sql")
REMOVE_FILES = ("capture/030_drop_triggers.sql",)
# The way back: the new app's changes to chat_messages, logged for sync to write back.
APP_INSTALL_FILES = ("capture/016_app_function.sql", "capture/022_app_trigger.sql")
APP_REMOVE_FILES = ("capture/032_drop_app_trigger.sql",)
WRITE_BACK_REMOVE_ALL = (*APP_REMOVE_FILES, "capture/036_drop_app_function.sql")


@dataclass(frozen=True)
class CaptureState:
    """Which legacy sources carry the capture trigger, and the logged changes not yet forwarded."""

    messages: bool
    voice_notes: bool
    pending: int
    logged: int

    @property
    def on(self) -> bool:
        return self.messages and self.voice_notes


def _run(conn: psycopg.Connection, config: Config, files: tuple[str, ...]) -> None:
    # Creating or dropping a trigger takes a SHARE ROW EXCLUSIVE lock on the legacy table, which
    # waits for the app's in-flight writes: bounded, and retried with backoff.
    names = identifiers(config)
    BoundedExecutor(
        conn, lock_timeout_ms=config.merge.lock_timeout_ms, max_retries=config.merge.max_retries
    ).statements("capture triggers", [sqlfiles.render(relative, names) for relative in files])


def _named(config: Config, files: tuple[str, ...]) -> list[tuple[str, str]]:
    names = identifiers(config)
    return [
        (relative.split("/")[-1].removesuffix(".sql"), sqlfiles.render(relative, names)) for relative in files
    ]


def install_statements(config: Config) -> list[tuple[str, str]]:
    """The statements that turn capture on, by name, as they run."""
    return _named(config, INSTALL_FILES)


def install(conn: psycopg.Connection, config: Config) -> None:
    """Turn capture on (idempotent): from the commit on, every change to a legacy source row is
    logged by the writing transaction itself."""
    _run(conn, config, INSTALL_FILES)


def remove(conn: psycopg.Connection, config: Config) -> None:
    """Turn capture off (idempotent); the log stays for what it has not forwarded yet."""
    _run(conn, config, REMOVE_FILES)


def install_write_back_statements(config: Config) -> list[tuple[str, str]]:
    """The statements that turn the way back's log on, by name, as they run."""
    return _named(config, APP_INSTALL_FILES)


def install_write_back(conn: psycopg.Connection, config: Config) -> None:
    """Log the new app's changes to chat_messages for sync to write back (idempotent)."""
    _run(conn, config, APP_INSTALL_FILES)


def remove_write_back(conn: psycopg.Connection, config: Config) -> None:
    """Stop logging the new app's changes (idempotent); what was logged stays."""
    _run(conn, config, APP_REMOVE_FILES)


def write_back_on(conn: psycopg.Connection, config: Config) -> bool:
    """Whether the new app's changes to chat_messages are being logged for the way back."""
    names = identifiers(config)
    row = conn.execute(
        sqlfiles.load("capture/041_write_back_state.sql"),
        {"chat_messages": sqlfiles.quote(names["chat_messages"])},
    ).fetchone()
    return bool(row and row[0])


def remove_write_back_entirely(conn: psycopg.Connection, config: Config) -> None:
    """The way back's trigger and its function gone (a rollback of what turned them on)."""
    _run(conn, config, WRITE_BACK_REMOVE_ALL)


def state(conn: psycopg.Connection, config: Config) -> CaptureState:
    names = identifiers(config)
    row = conn.execute(
        sqlfiles.render("capture/040_state.sql", names),
        {"messages": sqlfiles.quote(names["messages"]), "voice_notes": sqlfiles.quote(names["voice_notes"])},
    ).fetchone()
    assert row is not None
    return CaptureState(bool(row[0]), bool(row[1]), row[2], row[3])
