"""The load test's short form: an app writing legacy rows during merge loses nothing at cut-over."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg

from consolidation.core.config import Config
from consolidation.live import LegacyWriter, check, run_live
from consolidation.pytest_plugin import LocalDatabase

CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")


def test_writes_during_merge_end_in_chat_messages_exactly_once_with_their_latest_content(
    legacy_db: LocalDatabase,
) -> None:
    # At the pace README gives for a live app: one worker, idling three times as long as each
    # batch took.
    result = run_live(
        legacy_db.url,
        legacy_db.environment(),
        CONSOLIDATE,
        writes=600,
        rate=200,
        idle_seconds=0.5,
        workers=1,
        pause_ratio=3.0,
    )
    assert (result.merge_exit, result.cutover_exit) == (0, 0), result.output
    assert result.report.errors == []
    assert result.report.latencies.get("merge"), "the writer wrote nothing while merge ran"
    assert "paused" in result.output, "merge did not idle between batches"
    assert sum(result.report.operations.values()) > 100
    assert (result.outcome.missing, result.outcome.stale, result.outcome.duplicates) == ([], [], 0)
    # bench/live prints the hypervisor's share of each window; on Linux it is read, as a percentage.
    assert set(result.steal) == {"idle", "merge"}
    if Path("/proc/stat").exists():
        assert all(0.0 <= share <= 100.0 for share in result.steal.values() if share is not None)
        assert result.steal["merge"] is not None


def test_merge_returns_while_the_app_keeps_writing(legacy_db: LocalDatabase) -> None:
    # The app never stops writing before its cut-over: merge forwards what was logged when it
    # began forwarding and returns, instead of chasing the writer. The writer here would write
    # for 20 s; merge of the small dataset takes a few.
    writer = LegacyWriter(legacy_db.url, writes=20000, rate=1000)
    writer.start()
    try:
        time.sleep(0.5)
        merged = subprocess.run(
            [CONSOLIDATE, "merge", "--apply", "--force-order"],
            env=legacy_db.environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert merged.returncode == 0, merged.stdout + merged.stderr
        assert writer.is_alive(), "merge only returned once the writer had stopped"
    finally:
        writer.stop_event.set()
        writer.join(timeout=60)
    cut = subprocess.run(
        [CONSOLIDATE, "cutover", "--apply", "--force-order"],
        env=legacy_db.environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cut.returncode == 0, cut.stdout + cut.stderr
    with psycopg.connect(legacy_db.url, autocommit=True) as conn:
        outcome = check(conn, Config(), writer.report)
    assert (outcome.missing, outcome.stale, outcome.duplicates) == ([], [], 0)
