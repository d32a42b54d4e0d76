"""Database access: connecting from the environment, and order-independent checksums."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from consolidation.core.config import KEY_ENV
from consolidation.core.errors import ConfigError, DatabaseUnreachable

DATABASE_URL_ENV = "DATABASE_URL"


def database_url(url: str | None = None) -> str:
    chosen = url or os.environ.get(DATABASE_URL_ENV)
    if not chosen:
        raise ConfigError(
            "no database given",
            hint='set DATABASE_URL (eval "$(consolidate stack env)" for the local stack) '
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


# The password of a URL-shaped text, even one libpq cannot parse.
_URL_PASSWORD = re.compile(r"://[^:/@\s]*:([^@\s]+)@")


def _passwords(text: str) -> set[str]:
    found = set(_URL_PASSWORD.findall(text))
    for candidate in (text, text.partition("=")[2]):  # a conninfo, or --database-url=<conninfo>
        try:
            password = psycopg.conninfo.conninfo_to_dict(candidate).get("password")
        except psycopg.ProgrammingError:
            continue
        if password:
            found.add(str(password))
    return found


def secrets_given(environment: Mapping[str, str], argv: Sequence[str]) -> set[str]:
    """Every password and key this process was handed (database URLs, PGPASSWORD, the service key)."""
    found = {environment[name] for name in (KEY_ENV, "PGPASSWORD") if environment.get(name)}
    for text in (environment.get(DATABASE_URL_ENV, ""), *argv):
        found |= _passwords(text)
    return found


def mask(text: str, secrets: set[str]) -> str:
    """TEXT with every one of SECRETS replaced by ***: the last guard before anything is printed."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def connect(url: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    target = database_url(url)
    try:
        return psycopg.connect(target, autocommit=autocommit, connect_timeout=10)
    except psycopg.ProgrammingError:
        # libpq quotes the offending part of a malformed URL, which may be the password.
        raise ConfigError(
            "the database URL is malformed (not shown: it may hold a password)",
            hint="check its form, postgresql://user:password@host:port/dbname, and percent-encode "
            "special characters in the password (%40 for @, %25 for %)",
        ) from None
    except psycopg.OperationalError as exc:
        said = str(exc).strip()
        if exc.sqlstate in _REFUSED_LOGIN or "password authentication failed" in said:
            # The server answered: it runs, and refused the login.
            raise DatabaseUnreachable(
                f"the database at {redact(target)} refused the login: {said}",
                hint="check the user and password in the URL (percent-encode special characters)",
            ) from exc
        raise DatabaseUnreachable(
            f"cannot reach the database at {redact(target)}: {said}",
            hint="check that the server is running (consolidate stack status) and the URL is right",
        ) from exc


# invalid_password, invalid_authorization_specification.
_REFUSED_LOGIN = ("28P01", "28000")


def sibling(conn: psycopg.Connection) -> psycopg.Connection:
    """Another connection to CONN's database with CONN's own parameters (credentials included),
    in autocommit mode: for workers of a phase that was handed one connection."""
    params = {option.keyword.decode(): option.val.decode() for option in conn.pgconn.info if option.val}
    try:
        return psycopg.connect(make_conninfo(**params), autocommit=True)
    except psycopg.OperationalError as exc:
        raise unreachable(exc) from exc


# SQLSTATEs of a connection the server ended (admin or crash shutdown, starting up) besides
# class 08; a connection lost without word from the server has no SQLSTATE at all.
_ENDED_BY_SERVER = ("57P01", "57P02", "57P03")


def unreachable(exc: psycopg.OperationalError) -> DatabaseUnreachable:
    """What to tell the operator when a command's connection failed part-way."""
    detail = " ".join(str(exc).split())
    state = exc.sqlstate
    if state is None or state in _ENDED_BY_SERVER or state.startswith("08"):
        return DatabaseUnreachable(
            f"lost the connection to the database part-way ({detail})",
            hint="check that the server is up (consolidate stack status), then re-run the same "
            "command: applied work is journaled and resumes where it stopped",
        )
    return DatabaseUnreachable(
        f"the database stopped the command (SQLSTATE {state}): {detail}",
        hint="re-run the same command once the cause is gone: applied work resumes where it stopped",
    )


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


# SQLSTATE classes of errors one row's own values can cause: a value out of range, too long or
# malformed (22), a constraint refusing it (23), a limit its size or depth hits (54), a trigger
# raising (P0). A phase retries such a failure row by row and records the row that causes it
# with the error, instead of stopping for it; any other error (a missing column, a privilege,
# a lost connection) is about the whole phase and stops it.
ROW_ERROR_CLASSES = ("22", "23", "54", "P0")
ERROR_TEXT_LIMIT = 500


def is_row_error(exc: BaseException) -> bool:
    """Whether EXC is a database error a single row can cause (see ROW_ERROR_CLASSES)."""
    return isinstance(exc, psycopg.DatabaseError) and (exc.sqlstate or "")[:2] in ROW_ERROR_CLASSES


def error_text(exc: BaseException) -> str:
    """The database's error as a reason to record: SQLSTATE and first line, bounded in length."""
    state = getattr(exc, "sqlstate", None)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text = f"SQLSTATE {state}: {first}" if state else first
    return text if len(text) <= ERROR_TEXT_LIMIT else text[: ERROR_TEXT_LIMIT - 1] + "…"
