"""The README's main job: `consolidate demo` on a fresh embedded stack ends clean, and re-runs clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

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
        assert first.returncode == 0, first.stderr
        for phase in ("plan", "backup", "merge", "verify", "storage", "verify after storage",
                      "lint, probe, policies, probe"):
            assert f"\n{phase}" in "\n" + first.stdout, phase
        assert "False" not in first.stdout
        reports = directory / "reports"
        for name in ("probe.md", "probe.html", "probe.json", "probe.junit.xml", "probe.sarif"):
            assert (reports / "before" / name).is_file() and (reports / "after" / name).is_file(), name
        second = _demo(directory)
        assert second.returncode == 0, second.stderr
        assert "False" not in second.stdout
    finally:
        if (directory / "stack.json").exists():
            Stack(directory).down()
        shutil.rmtree(directory, ignore_errors=True)
