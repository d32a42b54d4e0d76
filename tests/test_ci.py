"""README's CI job works as written: its steps, run the way GitHub Actions runs them (each in a fresh
bash, the environment carried only through $GITHUB_ENV), find the leaks, then pass once the
access policy is in."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# What a runner's job starts with: none of the stack's variables.
STACK_VARIABLES = re.compile(
    r"^(DATABASE_URL|CONSOLIDATION_.*|STORAGE_.*|FILE_STORAGE_.*|GLOBAL_S3_BUCKET|TENANT_ID|PG.*)$"
)


def readme_steps() -> list[str]:
    """The `run:` scripts of README's CI job, in order."""
    text = README.read_text(encoding="utf-8")
    block = text.split("project's migrations against the access policy:", 1)[1].split("```yaml\n", 1)[1]
    block = block.split("```", 1)[0]
    steps: list[list[str]] = []
    in_run = False
    for line in block.splitlines():
        if line.startswith("- "):
            steps.append([])
            line = "  " + line[2:]
            in_run = False
        inline = re.match(r"^  run: (.*)$", line)
        if inline and inline.group(1) == "|":
            in_run = True
        elif inline:
            steps[-1].append(inline.group(1))
        elif in_run and line.startswith("    "):
            steps[-1].append(line[4:])
        elif re.match(r"^  \w+:", line):
            in_run = False
    return ["\n".join(lines) for lines in steps]


class Runner:
    """Runs steps as GitHub Actions does: a fresh `bash -eo pipefail` per step, whose environment
    is the job's plus every NAME=value line earlier steps wrote to $GITHUB_ENV."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.github_env = workspace / ".github_env"
        self.github_env.touch()
        job = {k: v for k, v in os.environ.items() if not STACK_VARIABLES.match(k)}
        self.job = {**job, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{job.get('PATH', '')}"}

    def run(self, script: str) -> subprocess.CompletedProcess[str]:
        carried = dict(
            line.split("=", 1) for line in self.github_env.read_text().splitlines() if "=" in line
        )
        path = self.workspace / ".step.sh"
        path.write_text(script + "\n")
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
            cwd=self.workspace,
            env={**self.job, **carried, "GITHUB_ENV": str(self.github_env)},
            capture_output=True,
            text=True,
            timeout=300,
        )


def test_readme_ci_job_runs_as_written(tmp_path: Path) -> None:
    steps = readme_steps()
    assert len(steps) == 5 and steps[0].startswith("pip install")  # installing is the runner's part
    workspace = tmp_path / "project"
    workspace.mkdir()
    # The project's migrations: the legacy chat schema, its permissive policies included.
    (workspace / "your_migrations.sql").write_text(
        (ROOT / "sql" / "legacy" / "010_schema.sql").read_text(encoding="utf-8")
    )
    runner = Runner(workspace)
    started = runner.run(steps[1])
    try:
        assert started.returncode == 0, started.stderr
        carried = runner.github_env.read_text()
        assert "DATABASE_URL=postgresql://" in carried and "'" not in carried

        migrated = runner.run(steps[2])
        assert migrated.returncode == 0, migrated.stderr
        linted = runner.run(steps[3])
        # Findings (exit 1), not "no database given" (2): the later step saw the stack.
        assert linted.returncode == 1, linted.stderr
        assert json.loads((workspace / "reports" / "lint.json").read_text())["findings"]
        probed = runner.run(steps[4])
        assert probed.returncode == 1, probed.stderr
        assert "leak" in probed.stderr
        assert (workspace / "supabase" / "tests" / "access_test.sql").is_file()

        installed = runner.run("consolidate policies --apply --force-order")
        assert installed.returncode == 0, installed.stderr
        again = runner.run(steps[4])
        assert again.returncode == 0, again.stderr
        assert json.loads((workspace / "reports" / "probe.json").read_text())["summary"]["passed"]
    finally:
        runner.run("consolidate stack down")
