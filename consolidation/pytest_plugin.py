"""pytest fixtures on the real local stack: one server per test session, one database per test.

Registered as a pytest plugin (entry point `consolidation`), so a project's own CI gets the
same fixtures. Each test's database is cloned from a template, with its own copy of the file
store, so tests are independent and cheap. `empty_db_each_pg` runs a test on the default stack
and again on a PostgreSQL 15 stack (Supabase's long-standing major), skipped where 15 is absent.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from consolidation.core import db, sqlfiles
from consolidation.stack import STORE_BUCKET, TENANT, Stack

PG_BIN_ENV = "CONSOLIDATION_TEST_PG_BIN"
PG15_BIN_ENV = "CONSOLIDATION_TEST_PG15_BIN"
DEBIAN_PG15_BIN = Path("/usr/lib/postgresql/15/bin")
_clone_numbers = itertools.count(1)


@dataclass(frozen=True)
class LocalDatabase:
    """One database on the local stack, with the file store that belongs to it."""

    name: str
    url: str
    store_root: Path

    def __repr__(self) -> str:
        # pytest prints a failing test's fixtures: never the password in the URL.
        shown = f"name={self.name!r}, url={db.redact(self.url)!r}, store_root={str(self.store_root)!r}"
        return f"LocalDatabase({shown})"

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=autocommit)

    def environment(self) -> dict[str, str]:
        """The variables a `consolidate` subprocess needs to work on this database."""
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "CONSOLIDATION_STORAGE_BACKEND": "local",
            "CONSOLIDATION_STORAGE_ROOT": str(self.store_root),
            "GLOBAL_S3_BUCKET": STORE_BUCKET,
            "TENANT_ID": TENANT,
        }


class LocalCluster:
    """Creates and drops databases on a running stack."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.stack.database_url(), autocommit=True)

    def create(self, name: str, *, template: LocalDatabase | None = None) -> LocalDatabase:
        store_root = self.stack.directory / "stores" / name
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template.name if template else "template1")
                )
            )
        if store_root.exists():
            shutil.rmtree(store_root)
        if template:
            shutil.copytree(template.store_root, store_root)
        else:
            store_root.mkdir(parents=True)
        return LocalDatabase(name=name, url=self.stack.database_url(name), store_root=store_root)

    def drop(self, database: LocalDatabase) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database.name))
            )
        shutil.rmtree(database.store_root, ignore_errors=True)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Stack]:
    """The local stack, started once per test session in a temporary folder on a free port."""
    directory = Path(tempfile.mkdtemp(prefix="consolidate-stack-"))
    stack = Stack(directory)
    stack.up(port=_any_free_port(), pg_bin=os.environ.get(PG_BIN_ENV) or None)
    try:
        yield stack
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def local_cluster(local_stack: Stack) -> LocalCluster:
    return LocalCluster(local_stack)


@pytest.fixture(scope="session")
def local_stack_pg15(local_stack: Stack) -> Iterator[Stack]:
    """A second stack on PostgreSQL 15 ($CONSOLIDATION_TEST_PG15_BIN, else Debian's
    postgresql-15), started once per session when a test asks for it."""
    bin_dir = Path(os.environ.get(PG15_BIN_ENV) or DEBIAN_PG15_BIN)
    if not (bin_dir / "initdb").is_file():
        pytest.skip(
            f"PostgreSQL 15 is not installed in {bin_dir} (apt-get install postgresql-15, "
            f"or set {PG15_BIN_ENV}); the PostgreSQL 15 runs are skipped"
        )
    if _server_major(local_stack) == 15:
        pytest.skip("the default stack already runs PostgreSQL 15")
    directory = Path(tempfile.mkdtemp(prefix="consolidate-stack-pg15-"))
    stack = Stack(directory)
    stack.up(port=_any_free_port(), pg_bin=bin_dir)
    try:
        yield stack
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["default", "pg15"])
def empty_db_each_pg(request: pytest.FixtureRequest) -> Iterator[LocalDatabase]:
    """A fresh database with Supabase's contract, on the default stack and on PostgreSQL 15."""
    if request.param == "default":
        cluster = request.getfixturevalue("local_cluster")
    else:
        cluster = LocalCluster(request.getfixturevalue("local_stack_pg15"))
    database = cluster.create(f"test_empty_{request.param}_{os.getpid()}_{next(_clone_numbers)}")
    try:
        yield database
    finally:
        cluster.drop(database)


@pytest.fixture(scope="session")
def legacy_template(local_cluster: LocalCluster) -> LocalDatabase:
    """A database with the legacy schema and a small deterministic dataset, cloned per test."""
    from consolidation.seed import SeedOptions, seed_legacy

    database = local_cluster.create("legacy_template")
    seed_legacy(database.url, database.store_root, SeedOptions.small())
    return database


@pytest.fixture
def empty_db(local_cluster: LocalCluster) -> Iterator[LocalDatabase]:
    """A fresh database with Supabase's contract and nothing else."""
    database = local_cluster.create(f"test_empty_{os.getpid()}_{next(_clone_numbers)}")
    try:
        yield database
    finally:
        local_cluster.drop(database)


@pytest.fixture
def legacy_db(local_cluster: LocalCluster, legacy_template: LocalDatabase) -> Iterator[LocalDatabase]:
    """A private clone of the seeded legacy database (data and file store)."""
    database = local_cluster.create(
        f"test_legacy_{os.getpid()}_{next(_clone_numbers)}", template=legacy_template
    )
    try:
        yield database
    finally:
        local_cluster.drop(database)


@pytest.fixture(scope="session")
def access_matrix() -> Callable[..., object]:
    """The assertion helper for a project's own CI: access_matrix(url) probes every persona ×
    operation against the access spec and fails with the leaks, breaks and errors it found."""
    from consolidation.policies.testing import assert_access_matrix

    return assert_access_matrix


def apply_legacy_schema(conn: psycopg.Connection) -> None:
    """Create the legacy schema of SPEC (empty) on CONN."""
    for relative in sqlfiles.files("legacy"):
        conn.execute(sqlfiles.load(relative))


def _server_major(stack: Stack) -> int:
    with psycopg.connect(stack.database_url()) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _any_free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
