"""Secrets: the database password and the service key never appear in output, reports, logs or the journal."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import psycopg
import pytest
from conftest import apply
from psycopg import sql

from consolidation.core.config import BACKEND_ENV, KEY_ENV, URL_ENV
from consolidation.core.errors import ExitCode
from consolidation.pytest_plugin import LocalDatabase
from consolidation.stack import Stack

CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")
SERVICE_KEY = "sb_secret_4f2b9c7e1a6d0c3e"  # a secret key's form: the tool checks the form first
WRONG_PASSWORD = "wrong-password-9d3e7a1c"
# Every command's normal path, in the order an operator runs them, on one database, with its exit
# code; {out} is a folder for the files they write.
NORMAL_PATH = [
    (["plan", "--out", "{out}/plan"], ExitCode.OK),
    (["backup"], ExitCode.OK),
    (["backup", "--apply"], ExitCode.OK),
    (["merge"], ExitCode.OK),
    (["merge", "--apply"], ExitCode.OK),
    (["verify"], ExitCode.OK),
    (["storage", "plan"], ExitCode.OK),
    (["storage", "--apply"], ExitCode.OK),
    (["storage", "verify"], ExitCode.OK),
    (["policies", "plan"], ExitCode.OK),
    (["policies", "--apply"], ExitCode.OK),
    (["probe", "--out", "{out}/probe", "--export-pgtap", "{out}/access.pgtap.sql"], ExitCode.OK),
    # The interim policies replaced the legacy tables' permissive ones: lint finds no error.
    (["lint", "--out", "{out}/lint"], ExitCode.OK),
    (["policies", "rollback"], ExitCode.OK),
    (["policies", "rollback", "--apply"], ExitCode.OK),
    (["storage", "rollback", "--apply"], ExitCode.OK),
    (["rollback", "--phase", "merge"], ExitCode.OK),
]


def password_of(database: LocalDatabase) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(database.url)["password"])


def with_password(database: LocalDatabase, password: str, *, port: int | None = None, tail: str = "") -> str:
    info = psycopg.conninfo.conninfo_to_dict(database.url)
    where = f"{info['host']}:{port or info['port']}/{info['dbname']}"
    return f"postgresql://{info['user']}:{password}{tail}@{where}"


@dataclass(frozen=True)
class ErrorCase:
    name: str
    argv: list[str]
    exit_code: ExitCode
    # The DATABASE_URL to use, from the test database (default: its real one).
    url: Callable[[LocalDatabase], str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    config: str = ""


ERROR_PATHS = [
    ErrorCase("database unreachable", ["backup", "--apply"], ExitCode.UNREACHABLE,
              url=lambda db: with_password(db, password_of(db), port=1)),
    ErrorCase("wrong password", ["merge", "--apply"], ExitCode.UNREACHABLE,
              url=lambda db: with_password(db, WRONG_PASSWORD)),
    ErrorCase("malformed URL", ["plan"], ExitCode.USAGE,
              url=lambda db: with_password(db, password_of(db), tail="%zz")),
    ErrorCase("unreachable URL on the command line", ["verify", "--database-url", "{unreachable}"],
              ExitCode.UNREACHABLE),
    ErrorCase("service key in the config file", ["backup", "--apply"], ExitCode.USAGE,
              config=f'[storage]\nservice_key = "{SERVICE_KEY}"\n'),
    ErrorCase("phase out of order", ["merge", "--apply"], ExitCode.USAGE),
    ErrorCase("storage backend without a project URL", ["storage", "plan"], ExitCode.USAGE,
              env={BACKEND_ENV: "supabase"}),
]


class EchoingStorageApi(BaseHTTPRequestHandler):
    """The worst Storage API: it refuses every request and quotes the caller's Authorization header."""

    def _refuse(self) -> None:
        body = json.dumps({"statusCode": "403", "error": "Unauthorized",
                           "message": f"invalid signature: {self.headers.get('Authorization')}"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _refuse

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def echoing_storage_api() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), EchoingStorageApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def consolidate(database: LocalDatabase, argv: list[str], **env: str) -> subprocess.CompletedProcess:
    # Wide enough that no table cell is cut short: a truncated secret would evade the search.
    environment = {**database.environment(), KEY_ENV: SERVICE_KEY, "COLUMNS": "1000", **env}
    return subprocess.run(
        [CONSOLIDATE, *argv], env=environment, capture_output=True, text=True, timeout=180
    )


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets found in TEXT, line breaks and spaces ignored."""
    flat = "".join(text.split())
    return [name for name, secret in secrets.items() if secret in flat]


def journal_text(database: LocalDatabase) -> str:
    """Every row of every table the tool keeps in the database (journal and backups), as text."""
    with database.connect() as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = 'consolidation' OR table_schema LIKE 'consolidation\\_backup\\_%'"
        ).fetchall()
        return "\n".join(
            row[0]
            for schema, name in tables
            for row in conn.execute(
                sql.SQL("SELECT t::text FROM {} AS t").format(sql.Identifier(schema, name))
            )
        )


def files_text(folder: Path) -> str:
    return "\n".join(
        path.read_bytes().decode("utf-8", "replace") for path in sorted(folder.rglob("*")) if path.is_file()
    )


def test_normal_path_keeps_secrets_out(legacy_db: LocalDatabase, local_stack: Stack, tmp_path: Path) -> None:
    secrets = {"database password": password_of(legacy_db), "service key": SERVICE_KEY}
    out = tmp_path / "out"
    for argv, exit_code in NORMAL_PATH:
        done = consolidate(legacy_db, [part.replace("{out}", str(out)) for part in argv])
        assert done.returncode == exit_code, (argv, done.stderr[-2000:])
        assert leaked(done.stdout + done.stderr, secrets) == [], argv
    written = files_text(out)
    assert {"plan", "probe", "lint", "access.pgtap.sql"} <= {path.name for path in out.iterdir()}
    assert "chat_messages" in written, "the reports were searched"
    assert leaked(written, secrets) == [], "reports and migration files"
    journal = journal_text(legacy_db)
    assert "merge --apply" in journal, "the journal was searched"
    assert leaked(journal, secrets) == [], "journal"
    assert leaked(local_stack.log_file.read_text(errors="replace"), secrets) == [], "server log"


@pytest.mark.parametrize("case", ERROR_PATHS, ids=[case.name for case in ERROR_PATHS])
def test_error_paths_keep_secrets_out(legacy_db: LocalDatabase, tmp_path: Path, case: ErrorCase) -> None:
    secrets = {
        "database password": password_of(legacy_db),
        "wrong password": WRONG_PASSWORD,
        "service key": SERVICE_KEY,
    }
    unreachable = with_password(legacy_db, password_of(legacy_db), port=1)
    argv = [part.replace("{unreachable}", unreachable) for part in case.argv]
    if case.config:
        config = tmp_path / "consolidate.toml"
        config.write_text(case.config)
        argv += ["--config", str(config)]
    env = {**case.env, "DATABASE_URL": case.url(legacy_db) if case.url else legacy_db.url}
    done = consolidate(legacy_db, argv, **env)
    assert done.returncode == case.exit_code, done.stderr[-2000:]
    assert "error:" in done.stderr and "Traceback" not in done.stderr
    assert leaked(done.stdout + done.stderr, secrets) == []
    assert leaked(journal_text(legacy_db), secrets) == []


def test_a_storage_api_quoting_the_key_back_is_masked(
    legacy_db: LocalDatabase, echoing_storage_api: str
) -> None:
    apply(legacy_db, "backup")
    apply(legacy_db, "merge")
    env = {BACKEND_ENV: "supabase", URL_ENV: echoing_storage_api}
    done = consolidate(legacy_db, ["storage", "plan"], **env)
    assert done.returncode != ExitCode.OK
    assert "invalid signature" in done.stderr, "the server's answer reached the output"
    assert leaked(done.stdout + done.stderr, {"service key": SERVICE_KEY}) == []
