"""Probe transport through the real Storage API: each persona calls it the way an app does, with
supabase-py's client and a JWT signed for that persona, on the files operations.

The Storage API reads the database itself, so the probe's world (the SQL transport's fixtures,
created, never picked) is committed while the matrix runs and removed afterwards, and every
write a persona made is undone after its cell. The world's ids are derived, so a run killed
half-way leaves rows the next run finds and removes before it builds its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
from consolidation.policies import classify
from consolidation.policies.access_spec import AccessSpec, Operation
from consolidation.policies.classify import Outcome
from consolidation.policies.sql_transport import LEGACY_TABLES, SqlProbeSession, world_sql
from consolidation.policies.transport import Actor, Attempt
from psycopg import sql
from storage3.exceptions import StorageApiError
from supabase import Client, ClientOptions, create_client

from consolidation.core import db, sqlfiles
from consolidation.core.config import Config
from consolidation.core.errors import UsageError
from consolidation.core.names import policy_identifiers

FIXTURE_BYTES = b"probe"
TIMEOUT_SECONDS = 20
# The statement that removes the world's rows from one table (the HTTP transport cannot).
REMOVE_ROWS = "policies/world/remove_rows.sql"
# The tables holding the world's rows, in the order they are removed (children first), by the
# world file that made them.
ROW_TABLES = (
    ("create_message", "chat_messages"),
    ("create_legacy_message", "messages"),
    ("create_voice_note", "voice_notes"),
    ("create_session", "chat_sessions"),
    ("create_booking", "bookings"),
    ("create_user", "profiles"),
    ("create_user", "auth.users"),
)
NOT_FOUND = frozenset({"Object not found", "Bucket not found"})
# Names an attempt may create in its bucket: undone after the attempt, removed at the end.
CREATED_NAMES = ("new_file", "moved_file", "other_folder_file", "foreign_file", "stolen_file")


def sign(secret: str, claims: dict[str, Any]) -> str:
    """An HS256 JWT with CLAIMS, as the project's auth server would issue it."""

    def encoded(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = encoded(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = encoded(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{encoded(mac)}"


def outcome_of(error: StorageApiError) -> Outcome:
    """What the Storage API's refusal means, in the probe's terms: its RLS and privilege errors
    carry the database's own words; an object (or public bucket) it cannot see is not found."""
    message, status, code = str(error.message), str(error.status), str(error.code)
    if message.startswith("new row violates row-level security policy"):
        return Outcome.DENIED_WITH_CHECK
    if message.startswith("permission denied"):
        return Outcome.DENIED_PRIVILEGE
    if status == "404" or code in ("not_found", "NoSuchKey") or message in NOT_FOUND:
        return Outcome.FILTERED
    return Outcome.ERROR


class HttpProbeSession:
    """The committed world, one supabase-py client per persona, and the files operations as calls."""

    def __init__(
        self,
        conn: psycopg.Connection,
        config: Config,
        spec: AccessSpec,
        storage_url: str,
        service_key: str,
        jwt_secret: str,
    ) -> None:
        self.conn = conn
        self.config = config
        self.spec = spec
        self.storage_url = storage_url.rstrip("/")
        self.service_key = service_key
        self.jwt_secret = jwt_secret
        self.world = SqlProbeSession(conn, config, spec, "create")
        self.actors: dict[str, Actor] = {}
        self.fixtures: dict[str, Any] = {}
        self.setup_statements: list[str] = []
        self.conditions: dict[str, bool] = {}
        self._clients: dict[str, Client] = {}
        self._http = httpx.Client(timeout=TIMEOUT_SECONDS)

    # -- the world ------------------------------------------------------------------------------

    def build(self) -> None:
        # The ids the world will have, learnt in a rolled-back rehearsal: whatever a killed run left
        # under them goes first.
        with self.conn.transaction(force_rollback=True):
            rehearsal = SqlProbeSession(self.conn, self.config, self.spec, "create")
            rehearsal.build()
        self._clients["service_role"] = self._client(self.service_key, self.service_key)
        self.remove(rehearsal)
        with self.conn.transaction():
            self.world.build()
        self.actors, self.fixtures = self.world.actors, self.world.fixtures
        self.setup_statements, self.conditions = self.world.setup_statements, self.world.conditions
        anon_key = sign(self.jwt_secret, self._claims(self.actors["anon"]))
        for persona, actor in self.actors.items():
            if persona != "service_role":
                self._clients[persona] = self._client(anon_key, sign(self.jwt_secret, self._claims(actor)))
        for bucket, name, owner in self._fixture_files(self.world):
            self._restore(bucket, name, owner)

    def _claims(self, actor: Actor) -> dict[str, Any]:
        """The claims of the token the persona's requests carry, as the SQL transport sets them."""
        return actor.claims(self.world.issued_at, self.spec.claims.get(actor.persona))

    def _client(self, api_key: str, token: str) -> Client:
        """A client as an app holds one: the project's key, and the signed-in user's token."""
        options = ClientOptions(
            headers={"Authorization": f"Bearer {token}"}, auto_refresh_token=False, httpx_client=self._http
        )
        return create_client(self.storage_url, api_key, options=options)

    @staticmethod
    def _fixture_files(world: SqlProbeSession) -> list[tuple[str, str, str]]:
        return [
            (params["bucket"], params["name"], params["owner"])
            for name, params in world.created
            if name == "create_object"
        ]

    def _service_bucket(self, bucket: str) -> Any:
        return self._clients["service_role"].storage.from_(bucket)

    def _restore(self, bucket: str, name: str, owner: str) -> None:
        """Put a fixture file back as its user left it: its bytes, and its user as owner."""
        self._service_bucket(bucket).upload(
            name, FIXTURE_BYTES, {"content-type": "text/plain", "upsert": "true"}
        )
        with self.conn.transaction():
            self.conn.execute(
                world_sql("set_owner", self.config), {"bucket": bucket, "name": name, "owner": owner}
            )

    def _created_names(self, world: SqlProbeSession) -> dict[str, set[str]]:
        """Per bucket, every name an attempt of the spec's files operations may create."""
        names: dict[str, set[str]] = {}
        for operation in self.spec.operations:
            if operation.api.kind != "storage" or world.skip_reason(operation):
                continue
            for actor in world.actors.values():
                params = world.params(actor, operation)
                names.setdefault(params["bucket"], set()).update(params[key] for key in CREATED_NAMES)
        return names

    def remove(self, world: SqlProbeSession) -> None:
        """Remove WORLD from the database and the store: its files and whatever the attempts
        wrote (through the API, bytes and rows), then its rows."""
        files = self._created_names(world)
        for bucket, name, _owner in self._fixture_files(world):
            files.setdefault(bucket, set()).add(name)
        for bucket, chosen in sorted(files.items()):
            listed = sorted(chosen)
            try:
                self._service_bucket(bucket).remove(listed)
            except StorageApiError:
                pass  # a bucket the API does not know: its rows, if any, go below
            with self.conn.transaction():
                self.conn.execute("SELECT set_config('storage.allow_delete_query', 'true', true)")
                removal = world_sql("remove_objects", self.config)
                self.conn.execute(removal, {"bucket": bucket, "names": listed})
        names = policy_identifiers(self.config)
        with self.conn.transaction():
            for made_by, table in ROW_TABLES:
                ids = [params["id"] for name, params in world.created if name == made_by]
                if not ids or (table in LEGACY_TABLES and table not in world.legacy_tables):
                    continue
                key = "id" if table == "auth.users" else getattr(self.config.columns, table).id
                text = sqlfiles.render(
                    REMOVE_ROWS, {"table": names[table], "column": sql.Identifier(key)}
                )
                self.conn.execute(text, {"ids": ids})

    # -- one attempt ----------------------------------------------------------------------------

    def skip_reason(self, operation: Operation) -> str | None:
        if operation.api.kind != "storage":
            return "the http transport calls the Storage API only: the sql transport probes the tables"
        return self.world.skip_reason(operation)

    def _calls(self, probe: str, actor: Actor, params: dict[str, Any]) -> tuple[Callable[[], int], str]:
        """The call for PROBE as ACTOR (how many objects it returned or changed), and the request
        it makes, as the evidence shows it."""
        bucket_id = params["bucket"]
        bucket = self._clients[actor.persona].storage.from_(bucket_id)
        route = f"/storage/v1/object/{bucket_id}"
        own, other = params["own_file"], params["other_file"]

        def upload(name: str, upsert: bool) -> tuple[Callable[[], int], str]:
            options = {"content-type": "text/plain", **({"upsert": "true"} if upsert else {})}

            def call() -> int:
                bucket.upload(name, FIXTURE_BYTES, options)
                return 1

            return call, f"POST {route}/{name}" + (" (x-upsert: true)" if upsert else "")

        def move(source: str, target: str) -> tuple[Callable[[], int], str]:
            def call() -> int:
                bucket.move(source, target)
                return 1

            return call, f"POST /storage/v1/object/move {bucket_id}: {source} → {target}"

        def remove(name: str) -> tuple[Callable[[], int], str]:
            return (lambda: len(bucket.remove([name]))), f"DELETE {route} (prefixes: {name})"

        def download() -> int:
            bucket.download(other)
            return 1

        def public() -> int:
            response = self._http.get(bucket.get_public_url(other))
            if response.status_code == 200:
                return 1
            raise _api_error(response)

        calls = {
            "files.read": lambda: (download, f"GET {route}/{other}"),
            "files.list": lambda: (
                lambda: len(bucket.list(params["session"])),
                f"POST /storage/v1/object/list/{bucket_id} (prefix: {params['session']})",
            ),
            "files.public_url": lambda: (public, f"GET /storage/v1/object/public/{bucket_id}/{quote(other)}"),
            "files.upload_own": lambda: upload(params["new_file"], False),
            "files.upsert_own": lambda: upload(own, True),
            "files.overwrite_other": lambda: upload(other, True),
            "files.upload_other_folder": lambda: upload(params["other_folder_file"], False),
            "files.upload_foreign_session": lambda: upload(params["foreign_file"], False),
            "files.move_within_own": lambda: move(own, params["moved_file"]),
            "files.move_to_foreign_session": lambda: move(own, params["foreign_file"]),
            "files.move_other": lambda: move(other, params["stolen_file"]),
            "files.remove_own": lambda: remove(own),
            "files.remove_other": lambda: remove(other),
        }
        if probe not in calls:
            raise UsageError(
                f"the http transport has no Storage API call for the probe {probe}",
                hint="probe it with the sql transport, or add its call to policies/http_transport.py",
            )
        return calls[probe]()

    def _undo(self, params: dict[str, Any]) -> None:
        """After a write: the names it may have created go, the files it may have changed come back."""
        bucket = params["bucket"]
        self._service_bucket(bucket).remove([params[key] for key in CREATED_NAMES])
        owners = {name: owner for b, name, owner in self._fixture_files(self.world) if b == bucket}
        for name in (params["own_file"], params["other_file"]):
            if name in owners:
                self._restore(bucket, name, owners[name])

    def attempt(self, actor: Actor, operation: Operation) -> Attempt:
        params = self.world.params(actor, operation)
        if operation.api.runs_as == "service":
            settings = "no Authorization: the public route serves a public bucket's files to anyone"
        elif actor.persona == "service_role":
            settings = "apikey and Authorization: the service key"
        else:
            settings = f"apikey: the anon key; Authorization: Bearer <JWT {json.dumps(self._claims(actor))}>"
        call, shown = self._calls(operation.probe_name, actor, params)
        try:
            rows = call()
            return Attempt(classify.from_rows(rows), rows, None, None, shown, settings)
        except StorageApiError as exc:
            message = f"HTTP {exc.status} {exc.code}: {exc.message}"
            return Attempt(outcome_of(exc), None, None, message, shown, settings)
        except httpx.HTTPError as exc:
            return Attempt(Outcome.ERROR, None, None, f"{type(exc).__name__}: {exc}", shown, settings)
        finally:
            if operation.api.method != "GET":
                self._undo(params)

    def close(self) -> None:
        self._http.close()


def _api_error(response: httpx.Response) -> StorageApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = str(body.get("message", response.text))
    return StorageApiError(message, str(body.get("error", "")), body.get("statusCode", response.status_code))


class HttpTransport:
    """The Storage API of the project at STORAGE_URL (the project URL; the API under /storage/v1),
    reading the database at URL; SERVICE_KEY is the project's service key, JWT_SECRET the secret
    the project signs its users' tokens with."""

    name = "http"

    def __init__(
        self, url: str, config: Config, *, storage_url: str, service_key: str, jwt_secret: str
    ) -> None:
        self.url = url
        self.config = config
        self.storage_url = storage_url
        self.service_key = service_key
        self.jwt_secret = jwt_secret

    @contextmanager
    def session(self, spec: AccessSpec) -> Iterator[HttpProbeSession]:
        with db.connection(self.url, autocommit=True) as conn:
            probe = HttpProbeSession(
                conn, self.config, spec, self.storage_url, self.service_key, self.jwt_secret
            )
            try:
                probe.build()
                yield probe
            finally:
                try:
                    probe.remove(probe.world)
                finally:
                    probe.close()
