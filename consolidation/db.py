"""Database access: connecting from the environment, and order-independent checksums."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import errors, sql
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential, wait_random

from consolidation.errors import ConfigError, DatabaseUnreachable

DATABASE_URL_ENV = "DATABASE_URL"


def database_url(url: str | None = None) -> str:
    chosen = url or os.environ.get(DATABASE_URL_ENV)
    if not chosen:
        raise ConfigError(
            "no database given",
            hint="set DATABASE_URL (eval \"$(consolidate stack env)\" for the local stack) "
            "or pass --database-url",
        )
    return chosen


def redact(url: str) -> str:
    """The URL with its password replaced, safe for output, logs and the journal."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database url>"
    info.pop("password", None)
    host = info.get("host", "")
    port = info.get("port", "")
    return f"postgresql://{info.get('user', '')}@{host}:{port}/{info.get('dbname', '')}"


def connect(url: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    target = database_url(url)
    try:
        return psycopg.connect(target, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseUnreachable(
            f"cannot reach the database at {redact(target)}: {str(exc).strip()}",
            hint="check that the server is running (consolidate stack status) and the URL is right",
        ) from exc


@contextmanager
def connection(url: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    conn = connect(url, autocommit=autocommit)
    try:
        yield conn
    finally:
        conn.close()


@dataclass(frozen=True)
class TableChecksum:
    """Row count and an order-independent digest of a table's full content."""

    rows: int
    digest: str


_CHECKSUM = sql.SQL(
    "SELECT count(*), "
    "coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text, "
    "coalesce(sum(('x' || substr(md5(t::text), 17, 16))::bit(64)::bigint::numeric), 0)::text "
    "FROM {} AS t"
)


def table_checksum(conn: psycopg.Connection, table: sql.Composable) -> TableChecksum:
    """Checksum of every row's text form; equal content gives an equal digest in any order."""
    rows, high, low = conn.execute(_CHECKSUM.format(table)).fetchone()
    return TableChecksum(rows=rows, digest=f"{rows}:{high}:{low}")


# Failures another session causes and a later attempt can get past.
CONTENTION = (errors.LockNotAvailable, errors.SerializationFailure, errors.DeadlockDetected)


def contention_retrying(max_retries: int) -> Retrying:
    """Retry a transaction that lost to a lock timeout, a serialization failure or a deadlock,
    with exponential backoff and jitter; any other error, or the last failure, is raised."""
    return Retrying(
        retry=retry_if_exception_type(CONTENTION),
        stop=stop_after_attempt(max_retries + 1),
        wait=wait_exponential(multiplier=0.1, max=10) + wait_random(0, 0.1),
        reraise=True,
    )
