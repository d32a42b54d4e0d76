"""The pytest plugin's access_matrix helper: fails on the legacy leaks, passes once the policy is in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from conftest import apply

from consolidation.pytest_plugin import LocalDatabase


def test_access_matrix_fails_on_leaks_then_passes(
    legacy_db: LocalDatabase, access_matrix: Callable[..., object]
) -> None:
    with pytest.raises(AssertionError, match="LEAK outsider"):
        access_matrix(legacy_db.url)
    apply(legacy_db, "policies", force_order=True)
    access_matrix(legacy_db.url)


FAILING_TEST = '''
import os
from pathlib import Path

from consolidation.pytest_plugin import apply_legacy_schema


def test_the_legacy_schema(empty_db, access_matrix):
    Path(os.environ["PROBED_URL_FILE"]).write_text(empty_db.url)
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    access_matrix(empty_db.url)


def test_the_projects_own_packages_stay_its_own():
    import policies
    import storage_migration

    assert policies.OWNER == storage_migration.OWNER == "the project"
'''


def test_a_failing_access_matrix_never_prints_the_password(tmp_path: Path) -> None:
    """A project's failing access_matrix test, as pytest reports it with everything it can show
    (long tracebacks, every local): the leaks are listed, the database's password is not."""
    (tmp_path / "x.py").write_text(FAILING_TEST)
    probed = tmp_path / "probed_url"
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PYTEST")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--tb=long", "--showlocals", "-p", "no:cacheprovider", "x.py"],
        cwd=tmp_path,
        env={**environment, "PROBED_URL_FILE": str(probed)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "LEAK outsider messages.read" in output
    password = psycopg.conninfo.conninfo_to_dict(probed.read_text())["password"]
    assert password
    assert password not in output, "the database's password appears in pytest's output"


PROJECT_TEST = '''
import subprocess
import sys
from pathlib import Path

from consolidation.pytest_plugin import apply_legacy_schema


def test_access_policy(empty_db, access_matrix):
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    consolidate = str(Path(sys.executable).parent / "consolidate")
    policies = [consolidate, "policies", "--apply", "--force-order"]
    installed = subprocess.run(policies, env=empty_db.environment(), capture_output=True)
    assert installed.returncode == 0, installed.stderr
    access_matrix(empty_db.url)


def test_the_projects_own_packages_stay_its_own():
    import policies
    import storage_migration

    assert policies.OWNER == storage_migration.OWNER == "the project"
'''


def step(*argv: str | Path) -> str:
    """Run ARGV; its output, or RuntimeError (a failure of the setup, not of what is tested)."""
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def test_the_installed_plugin_works_in_a_project_with_its_own_policies_package(tmp_path: Path) -> None:
    """The wheel, installed into a fresh virtual environment, in a project that has `policies` and
    `storage_migration` packages of its own (as many Supabase projects do): the plugin's
    access_matrix runs there, and the project's packages stay its own."""
    root = Path(__file__).resolve().parent.parent
    pip = (sys.executable, "-m", "pip")
    step(*pip, "wheel", "-q", "--no-deps", "-w", tmp_path / "wheels", root)
    venv = tmp_path / "venv"
    step(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    wheel = next((tmp_path / "wheels").glob("chat_consolidation-*.whl"))
    step(*pip, "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)
    # The wheel's dependencies from this environment, after the venv's own packages (a path line:
    # the editable checkout this environment points at stays out).
    site = Path(step(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    deps = next(p for p in map(Path, sys.path) if p.name == "site-packages" and (p / "psycopg").is_dir())
    (site / "dependencies.pth").write_text(f"{deps}\n")
    project = tmp_path / "project"
    for package in ("policies", "storage_migration"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"OWNER = 'the project'  # its own {package}\n")
    (project / "test_access.py").write_text(PROJECT_TEST)
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PYTEST")}
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_access.py"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    shadowed = re.search(r"No module named '(policies|storage_migration)\.[a-z_]+'", output)
    assert shadowed is None, f"the project's own package shadows the plugin's: {shadowed.group(0)}"
    assert done.returncode == 0, f"the project's tests failed:\n{output}"
    assert "2 passed" in output, output
