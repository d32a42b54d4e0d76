"""squawk lints the SQL we generate: no warning, and every exception it is told to ignore says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import FIXTURES, apply

from consolidation import drift, migration_files
from consolidation.core.config import Config
from consolidation.phases import constraints
from consolidation.phases.contract import Step
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema

CONFIG = Config()
SQUAWK = Path(sys.executable).parent / "squawk"


def lint(paths: list[Path], *, in_transaction: bool) -> list[str]:
    """squawk's warnings, one line each. IN_TRANSACTION: each file runs in one transaction, as
    the Supabase CLI runs a migration."""
    done = subprocess.run(
        [
            str(SQUAWK),
            "--reporter",
            "json",
            *(["--assume-in-transaction"] if in_transaction else []),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return [
        f"{Path(f['file']).name}:{f['line'] + 1}: {f['rule_name']}: {f['message']}"
        for f in json.loads(done.stdout or "[]")
    ]


def unexplained(path: Path) -> list[str]:
    """Every squawk-ignore not preceded by a comment saying why."""
    lines = path.read_text().splitlines()
    return [
        f"{path.name}:{n + 1}"
        for n, line in enumerate(lines)
        if "squawk-ignore" in line
        and (n == 0 or not lines[n - 1].startswith("--") or "squawk-ignore" in lines[n - 1])
    ]


def as_script(steps: list[Step], config: Config) -> str:
    """Steps as apply runs them: each transactional one in its own transaction, the others alone."""
    parts = [
        f"SET lock_timeout = '{config.constraints.lock_timeout_ms}ms';",
        f"SET statement_timeout = '{config.constraints.statement_timeout_ms}ms';",
    ]
    parts += [f"BEGIN;\n{s.sql.strip()}\nCOMMIT;" if s.transactional else s.sql.strip() for s in steps]
    return "\n\n".join(parts) + "\n"


def small_world(database: LocalDatabase) -> psycopg.Connection:
    conn = database.connect()
    apply_legacy_schema(conn)
    conn.execute((FIXTURES / "constraints" / "small_world.sql").read_text(encoding="utf-8"))
    return conn


def test_migration_files_and_the_constraints_steps_are_clean(empty_db: LocalDatabase, tmp_path: Path) -> None:
    with small_world(empty_db) as conn:
        written = migration_files.write(conn, CONFIG, tmp_path)
        (tmp_path / "apply.sql").write_text(as_script(constraints.plan(conn, CONFIG).steps, CONFIG))
        apply(empty_db, "constraints", force_order=True)
        undo = constraints.rollback_steps(
            CONFIG, constraints.baseline(conn, CONFIG), constraints.inspect(conn, CONFIG)
        )
        (tmp_path / "rollback.sql").write_text(as_script(undo, CONFIG))
    assert len(written) == 16
    assert lint(written, in_transaction=True) == []
    scripts = [tmp_path / "apply.sql", tmp_path / "rollback.sql"]
    assert lint(scripts, in_transaction=False) == []
    assert [where for path in [*written, *scripts] for where in unexplained(path)] == []


@pytest.mark.parametrize("direction", ["create", "drop"])
def test_drift_aligning_scripts_are_clean(
    local_cluster: LocalCluster, tmp_path: Path, direction: str
) -> None:
    made = []
    for name, extra in (("plain", ""), ("rich", "every_kind.sql")):
        database = local_cluster.create(f"squawk_{name}_{os.getpid()}_{direction}")
        with database.connect() as conn:
            apply_legacy_schema(conn)
            conn.execute((FIXTURES / "drift" / "common.sql").read_text(encoding="utf-8"))
            if extra:
                conn.execute((FIXTURES / "drift" / extra).read_text(encoding="utf-8"))
        made.append(database)
    plain, rich = made
    try:
        source, target = (rich, plain) if direction == "create" else (plain, rich)
        with source.connect() as left, target.connect() as right:
            report = drift.compare_databases(left, right, drift.scope(CONFIG))
        script = tmp_path / "align.sql"
        script.write_text(report.script(allow_drops=True))
        assert len(report) > 10
        assert lint([script], in_transaction=False) == []
        assert unexplained(script) == []
    finally:
        for database in made:
            local_cluster.drop(database)
