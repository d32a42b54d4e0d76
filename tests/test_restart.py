"""Restart: the database server stopped mid-phase gives exit 3 and a clear message; a re-run completes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from consolidation import faults
from consolidation.core.config import Config
from consolidation.core.errors import ExitCode
from consolidation.pytest_plugin import PG_BIN_ENV, LocalCluster, LocalDatabase
from consolidation.seed import SeedOptions, seed_legacy
from consolidation.stack import Stack

BACKUP, MERGE = ("backup", "--apply"), ("merge", "--apply")


@dataclass(frozen=True)
class Case:
    name: str
    phase: faults.Phase
    before: tuple[tuple[str, ...], ...]
    # "fast": pg_ctl stop -m fast (sessions get AdminShutdown); "immediate": SIGQUIT to the
    # postmaster, PostgreSQL's crash stop (connections drop without a word, recovery on start).
    stop: str


CASES = [
    Case("merge, fast stop", faults.Phase("merge", (*MERGE, "--batch-size", "10"), checks=(("verify",),)),
         before=(BACKUP,), stop="fast"),
    Case("storage apply, immediate stop",
         faults.Phase("storage", ("storage", "--apply"), checks=(("storage", "verify"), ("verify",))),
         before=(BACKUP, MERGE), stop="immediate"),
]


@dataclass(frozen=True)
class PrivateStack:
    stack: Stack
    cluster: LocalCluster
    seeded: LocalDatabase


@pytest.fixture(scope="module")
def private_stack() -> Iterator[PrivateStack]:
    """A cluster of this module's own: stopping the session's shared one would break other tests."""
    directory = Path(tempfile.mkdtemp(prefix="consolidate-restart-"))
    stack = Stack(directory)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Durable, as production is: a crash stop of the local stack's default (fsync and
    # synchronous_commit off) may lose the last commits, the phase's own record among them.
    stack.up(port=port, pg_bin=os.environ.get(PG_BIN_ENV) or None, durable=True)
    try:
        cluster = LocalCluster(stack)
        seeded = cluster.create("restart_seeded")
        seed_legacy(seeded.url, seeded.store_root, SeedOptions.small())
        yield PrivateStack(stack, cluster, seeded)
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


def stop(stack: Stack, mode: str) -> None:
    if mode == "fast":
        stack.down()
        return
    pid = stack.status().pid
    assert pid is not None
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, "the server did not stop"
        time.sleep(0.05)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_server_stopped_mid_phase_exits_3_and_a_rerun_completes(
    private_stack: PrivateStack, case: Case
) -> None:
    database = private_stack.cluster.create(f"restart_{case.phase.name}", template=private_stack.seeded)
    password = str(psycopg.conninfo.conninfo_to_dict(database.url)["password"])
    try:
        for command in case.before:
            assert faults.consolidate(database, command).returncode == 0, command
        process = subprocess.Popen(
            [faults.CONSOLIDATE, *case.phase.command], env=database.environment(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        with psycopg.connect(database.url, autocommit=True) as watcher:
            assert faults.wait_for_record(watcher, Config(), case.phase, 0, process), "the phase started"
        time.sleep(0.1)
        stop(private_stack.stack, case.stop)
        _, stderr = process.communicate(timeout=120)
        message = " ".join(stderr.split())
        assert process.returncode == ExitCode.UNREACHABLE, stderr
        assert "lost the connection to the database" in message and "re-run the same command" in message
        assert "Traceback" not in stderr and password not in message

        while_down = faults.consolidate(database, case.phase.command)
        assert while_down.returncode == ExitCode.UNREACHABLE
        assert "cannot reach the database" in while_down.stderr

        private_stack.stack.up()
        with psycopg.connect(database.url, autocommit=True) as conn:
            record = faults.newest_record(conn, Config(), case.phase)
        assert record is not None and record[1] == "running", "the stop landed mid-phase"
        rerun = faults.consolidate(database, case.phase.command)
        assert rerun.returncode == 0, rerun.stderr
        with psycopg.connect(database.url, autocommit=True) as conn:
            status = conn.execute("SELECT status FROM consolidation.phase_records WHERE id = %s", [record[0]])
            assert status.fetchone() == ("interrupted",), "the next run marks the dead one interrupted"
        for check in case.phase.checks:
            assert faults.consolidate(database, check).returncode == 0, check
    finally:
        if not private_stack.stack.status().running:
            private_stack.stack.up()
        private_stack.cluster.drop(database)

