"""Rollback: undo one phase exactly, by what the journal and provenance say it created."""

from __future__ import annotations

from typing import Any

import psycopg

from consolidation.core import journal
from consolidation.core.config import Config
from consolidation.core.errors import UsageError
from consolidation.phases import backup, merge

PHASES = ("merge", "backup")


def rollback(
    conn: psycopg.Connection, config: Config, run: journal.Run, phase: str, *, force_order: bool = False
) -> Any:
    """Roll back PHASE; returns that phase's own rollback result."""
    if phase == "merge":
        return merge.rollback(conn, config, run)
    if phase == "backup":
        return backup.rollback(conn, config, run, force_order=force_order)
    raise UsageError(f"cannot roll back phase {phase!r}", hint=f"choose one of: {', '.join(PHASES)}")
