"""The README's main job: `consolidate demo` on a fresh embedded stack ends clean, and re-runs clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from consolidation.phases.registry import names
from consolidation.stack import Stack


def _demo(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from consolidation.cli import main; main()", "demo", "--dir", str(directory)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "200", "CONSOLIDATION_STACK_DIR": ""},
    )


def test_demo_runs_every_phase_clean_twice() -> None:
    directory = Path(tempfile.mkdtemp(prefix="consolidate-demo-"))
    try:
        first = _demo(directory)
        assert first.returncode == 0, first.stdout + first.stderr
        # It says what it does before each step, and shows each phase's outcome.
        for phase in names():
            assert f"\n{phase}: " in "\n" + first.stderr, phase
            assert f"\n{phase}" in "\n" + first.stdout, phase
        assert "stack down --dir" in first.stderr and "seeding the legacy dataset" in first.stderr
        reports = directory / "reports"
        for name in ("probe.md", "probe.html", "probe.json", "probe.junit.xml", "probe.sarif"):
            assert (reports / "before" / name).is_file() and (reports / "after" / name).is_file(), name
        second = _demo(directory)
        assert second.returncode == 0, second.stdout + second.stderr
        # Re-run: nothing to do for the phases that are applied and verified; no second backup.
        assert "already, and verified: nothing to do" in second.stdout
        with psycopg.connect(Stack(directory).database_url(), autocommit=True) as conn:
            backups = conn.execute(
                "SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, 'consolidation_backup_')"
            ).fetchone()[0]
        assert backups == 1
    finally:
        if (directory / "stack.json").exists():
            Stack(directory).down()
        shutil.rmtree(directory, ignore_errors=True)
