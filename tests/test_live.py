"""The load test's short form: an app writing legacy rows during merge loses nothing at cut-over."""

from __future__ import annotations

import sys
from pathlib import Path

from consolidation.live import run_live
from consolidation.pytest_plugin import LocalDatabase

CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")


def test_writes_during_merge_end_in_chat_messages_exactly_once_with_their_latest_content(
    legacy_db: LocalDatabase,
) -> None:
    result = run_live(
        legacy_db.url, legacy_db.environment(), CONSOLIDATE, writes=600, rate=200, idle_seconds=0.5
    )
    assert (result.merge_exit, result.cutover_exit) == (0, 0), result.output
    assert result.report.errors == []
    assert result.report.latencies.get("merge"), "the writer wrote nothing while merge ran"
    assert sum(result.report.operations.values()) > 100
    assert (result.outcome.missing, result.outcome.stale, result.outcome.duplicates) == ([], [], 0)
