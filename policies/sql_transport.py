"""Probe transport by SQL impersonation: act as each persona the way PostgREST (table
operations) and the Storage API (storage operations) do, each with exactly the settings that
API sets (role, JWT claims, request, timeouts; transaction-local), inside one transaction that
is always rolled back, one savepoint per operation."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg
from consolidation.policies import classify
from consolidation.policies.access_spec import CUT_OVER, AccessSpec, Operation
from consolidation.policies.transport import Actor, Attempt, bearer_token
from psycopg import ClientCursor, sql
from psycopg.types.json import Jsonb

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.names import policy_identifiers as identifiers

WORLD = "policies/world"
# Every id the probe makes is derived from this namespace and what the id is for, so the same
# spec gives the same fixtures, statements and pgTAP file on every run and machine.
PROBE_NAMESPACE = uuid.UUID("6f1c2a8e-4d3b-5e7f-9a0b-1c2d3e4f5a6b")
LEGACY_TABLES = ("messages", "voice_notes", "bookings")
# A probe that hangs (a lock held elsewhere) must fail as an error, not stall the matrix; a
# table operation runs under its roles' own timeouts, where they have them, as through PostgREST.
STATEMENT_TIMEOUT = "5s"
# The login PostgREST connects as: its settings hold for the session, the role's on top.
AUTHENTICATOR = "authenticator"
# Supabase's PostgREST: db-extra-search-path = "public, extensions", after the requested schema.
EXTRA_SEARCH_PATH = ("public", "extensions")


def probe_id(*parts: str) -> str:
    """A fixture id derived from what it is for (a UUID v5): stable across runs, never random."""
    return str(uuid.uuid5(PROBE_NAMESPACE, ":".join(parts)))


class _Rollback(Exception):
    """Raised to leave the probe transaction: nothing a probe did may stay."""


class SqlProbeSession:
    """Personas and fixtures inside the open probe transaction; attempts run in savepoints."""

    def __init__(
        self,
        conn: psycopg.Connection,
        config: Config,
        spec: AccessSpec,
        mode: str,
        issued_at: int | None = None,
    ) -> None:
        self.conn = conn
        self.config = config
        self.spec = spec
        self.mode = mode
        self.names = identifiers(config)
        self.actors: dict[str, Actor] = {}
        self.fixtures: dict[str, Any] = {}
        self.setup_statements: list[str] = []
        # Every fixture made, as (world file, its parameters): what a committed world removes.
        self.created: list[tuple[str, dict[str, Any]]] = []
        self.conditions: dict[str, bool] = {}
        self.legacy_tables: set[str] = set()
        self.legacy_buckets: set[str] = set()
        self._mogrify = ClientCursor(conn)
        self._trigger_functions: dict[str, bool] = {}
        # When the personas' tokens were issued: now, or a fixed time for a file that must not churn.
        self.issued_at = int(time.time()) if issued_at is None else issued_at
        self.role_settings: dict[str, dict[str, str]] = {}

    # -- the world: picked from the database, created where missing ---------------------------

    def _sql(self, name: str) -> str:
        return world_sql(name, self.config)

    def _setup(self, name: str, params: dict[str, Any]) -> None:
        text = self._sql(name)
        self.setup_statements.append(self._mogrify.mogrify(text, params).strip() + ";")
        self.created.append((name, params))
        self.conn.execute(text, params)

    def _one(self, name: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        if self.mode == "create":
            return None
        return self.conn.execute(self._sql(name), params).fetchone()

    def _user(self, persona: str, role: str, row: tuple[Any, ...] | None, profile_role: str) -> Actor:
        if row is not None:
            return Actor(persona, "authenticated", str(row[0]), row[1], dict(row[2]), "picked")
        uid = probe_id("user", persona)
        app_metadata = {"provider": "email", "providers": ["email"]}
        if profile_role in self.config.policies.admin_roles:
            app_metadata["role"] = profile_role
        email = f"probe-{persona}-{uid[:8]}@example.invalid"
        self._setup(
            "create_user",
            {"id": uid, "email": email, "app_metadata": Jsonb(app_metadata), "role": profile_role},
        )
        return Actor(persona, "authenticated", uid, email, app_metadata, "created")

    def build(self) -> None:
        roles = [AUTHENTICATOR, "anon", "authenticated", "service_role"]
        for role, name, value in self.conn.execute(self._sql("role_settings"), {"roles": roles}):
            self.role_settings.setdefault(role, {})[name] = value
        admin_roles = list(self.config.policies.admin_roles)
        bucket = self.config.storage.target_bucket
        self._setup("create_bucket", {"bucket": bucket})
        picked = self._one("pick_session", {"admin_roles": admin_roles})
        if picked:
            session, p_id, q_id = (str(v) for v in picked)
            participant = self._user(
                "participant",
                "authenticated",
                self.conn.execute(self._sql("user_of"), {"id": p_id}).fetchone(),
                "user",
            )
            q_row = self.conn.execute(self._sql("user_of"), {"id": q_id}).fetchone()
            other = self._user("other participant", "authenticated", q_row, "user")
        else:
            participant = self._user("participant", "authenticated", None, "user")
            other = self._user("other participant", "authenticated", None, "reader")
            session = probe_id("session")
            self._setup("create_session", {"id": session, "participants": [participant.uid, other.uid]})
        members = [participant.uid, other.uid]
        foreign = self._one("pick_foreign_session", {"exclude": members})
        foreign_session = str(foreign[0]) if foreign else None
        sessions = [session] + ([foreign_session] if foreign_session else [])
        pick = {
            "exclude": members,
            "sessions": sessions,
            "admin_roles": admin_roles,
            "source": self.config.policies.admin_source,
        }
        outsider = self._user(
            "outsider", "authenticated", self._one("pick_user", {**pick, "admin": False}), "user"
        )
        admin = self._user(
            "admin", "authenticated", self._one("pick_user", {**pick, "admin": True}), admin_roles[0]
        )
        if foreign_session is None:
            # Between the other participant and a fresh user: the probed participant, the
            # outsider and the admin stay out of it.
            stranger = self._user("stranger", "authenticated", None, "user")
            foreign_session = probe_id("foreign session")
            self._setup("create_session", {"id": foreign_session, "participants": [stranger.uid, other.uid]})
        empty_session = probe_id("empty session")
        self._setup("create_session", {"id": empty_session, "participants": members})
        self.actors = {
            "anon": Actor("anon", "anon"),
            "participant": participant,
            "outsider": outsider,
            "admin": admin,
            "service_role": Actor("service_role", "service_role"),
        }
        messages: dict[str, str] = {}
        files: dict[str, str] = {}
        for user in (participant, other, outsider, admin):
            assert user.uid is not None
            messages[user.uid] = probe_id("message", user.persona)
            self._setup("create_message", {"id": messages[user.uid], "session": session, "sender": user.uid})
            files[user.uid] = f"{session}/{user.uid}/probe-own-{user.uid[:8]}.txt"
            self._setup(
                "create_object",
                {
                    "bucket": bucket,
                    "name": files[user.uid],
                    "owner": user.uid,
                    "version": probe_id("version", bucket, user.persona),
                },
            )
        self.fixtures = {
            "session": session,
            "foreign_session": foreign_session,
            "empty_session": empty_session,
            "participant": participant.uid,
            "other": other.uid,
            "messages": messages,
            "files": files,
            "bucket": bucket,
        }
        self._legacy_world(participant, other, outsider, admin)

    def _legacy_world(self, *users: Actor) -> None:
        """The legacy tables' and buckets' fixtures: the probed pair's booking, a legacy message
        and voice note of each user in it, and in each legacy bucket the other participant's
        file, referred to by their legacy rows as the old app wrote them (public and signed URLs)."""
        config, tables = self.config, self.config.tables
        participant, other = users[0], users[1]
        assert participant.uid is not None and other.uid is not None
        keys = list(LEGACY_TABLES)
        present = self.conn.execute(
            self._sql("legacy_present"),
            {"schema": tables.schema_, "keys": keys, "tables": [getattr(tables, key) for key in keys]},
        ).fetchall()
        self.legacy_tables = {row[0] for row in present}
        cut_over = self.conn.execute(
            self._sql("legacy_cut_over"),
            {"schema": tables.schema_, "tables": [tables.messages, tables.voice_notes]},
        ).fetchone()
        self.conditions[CUT_OVER] = bool(cut_over and cut_over[0])
        buckets = self.conn.execute(
            self._sql("buckets_present"), {"buckets": list(config.storage.legacy_buckets)}
        ).fetchall()
        self.legacy_buckets = {row[0] for row in buckets}
        if "bookings" not in self.legacy_tables:
            return
        session, members = self.fixtures["session"], [participant.uid, other.uid]
        row = self._one("pick_booking", {"session": session, "members": members})
        booking = str(row[0]) if row else probe_id("booking")
        if row is None:
            status = next(iter(config.session_rule.booking_status), "active")
            self._setup(
                "create_booking",
                {"id": booking, "user": participant.uid, "reader": other.uid, "status": status},
            )
        self.fixtures["booking"] = booking
        context = config.voice_notes.chat_context_types[0]
        self.fixtures["chat_context"] = context
        legacy_files: dict[str, str] = {}
        references: dict[str, str] = {}
        voice_bucket = config.storage.bare_path_buckets.get("voice_notes")
        for bucket in sorted(self.legacy_buckets):
            name = f"{other.uid}/probe-legacy/shared file {bucket}.txt"
            legacy_files[bucket] = name
            self._setup(
                "create_object",
                {"bucket": bucket, "name": name, "owner": other.uid, "version": probe_id("version", bucket)},
            )
            route = "sign" if bucket == voice_bucket else "public"
            references[bucket] = (
                f"{config.storage.project_url}/storage/v1/object/{route}/{bucket}/{quote(name)}"
                + ("?token=probe" if route == "sign" else "")
            )
        self.fixtures["legacy_files"] = legacy_files
        if "messages" in self.legacy_tables:
            own = {user.persona: probe_id("legacy message", user.persona) for user in users}
            for user in users:
                self._setup(
                    "create_legacy_message",
                    {"id": own[user.persona], "booking": booking, "sender": user.uid, "file_url": None},
                )
            for bucket, url in references.items():
                if bucket != voice_bucket or "voice_notes" not in self.legacy_tables:
                    self._setup(
                        "create_legacy_message",
                        {
                            "id": probe_id("legacy message", bucket),
                            "booking": booking,
                            "sender": other.uid,
                            "file_url": url,
                        },
                    )
            self.fixtures["legacy_messages"] = {user.uid: own[user.persona] for user in users}
        if "voice_notes" in self.legacy_tables:
            own = {user.persona: probe_id("voice note", user.persona) for user in users}
            for user in users:
                url = references.get(voice_bucket or "") if user is other else None
                self._setup(
                    "create_voice_note",
                    {
                        "id": own[user.persona],
                        "user": user.uid,
                        "context_type": context,
                        "context": booking,
                        "file_url": url or f"probe/{user.persona}.webm",
                    },
                )
            self.fixtures["voice_notes"] = {user.uid: own[user.persona] for user in users}

    # -- one attempt --------------------------------------------------------------------------

    def skip_reason(self, operation: Operation) -> str | None:
        schema = self.config.tables.schema_
        if operation.id.startswith("legacy."):
            key = operation.id.split(".")[1]
            if key not in self.legacy_tables:
                return f"table {schema}.{getattr(self.config.tables, key)} does not exist in this database"
            if "booking" not in self.fixtures:
                return f"table {schema}.{self.config.tables.bookings} does not exist: no booking to probe"
        bucket = operation.bucket
        if bucket and bucket != self.fixtures["bucket"]:
            if bucket not in self.legacy_buckets:
                return f"bucket {bucket} does not exist in this database"
            if bucket not in self.fixtures.get("legacy_files", {}):
                bookings = f"{schema}.{self.config.tables.bookings}"
                return f"bucket {bucket}: no booking to probe its files with ({bookings} does not exist)"
        return None

    def params(self, actor: Actor, operation: Operation | None = None) -> dict[str, Any]:
        f = self.fixtures
        me = actor.uid or f["participant"]
        key = f"{operation.id if operation else ''}:{actor.persona}"
        tag = probe_id("attempt", key)[:8]
        bucket = (operation.bucket if operation else None) or f["bucket"]
        legacy_bucket = bucket != f["bucket"]
        legacy_messages, voice_notes = f.get("legacy_messages", {}), f.get("voice_notes", {})
        return {
            "uid": actor.uid,
            "self": me,
            "other": f["other"],
            "session": f["session"],
            "foreign_session": f["foreign_session"],
            "empty_session": f["empty_session"],
            "new_session": probe_id("new session", key),
            "new_id": probe_id("new row", key),
            "own_message": f["messages"][me],
            "other_message": f["messages"][f["other"]],
            "bucket": bucket,
            "version": probe_id("new version", key),
            "own_file": f["files"][me],
            "other_file": f["legacy_files"][bucket] if legacy_bucket else f["files"][f["other"]],
            "stolen_file": f"{me}/probe-legacy/moved-{tag}.txt"
            if legacy_bucket
            else f"{f['session']}/{me}/probe-moved-{tag}.txt",
            "session_prefix": f"{f['session']}/%",
            "new_file": f"{f['session']}/{me}/probe-new-{tag}.txt",
            "moved_file": f"{f['session']}/{me}/probe-moved-{tag}.txt",
            "other_folder_file": f"{f['session']}/{f['other']}/probe-new-{tag}.txt",
            "foreign_file": f"{f['foreign_session']}/{me}/probe-new-{tag}.txt",
            "booking": f.get("booking"),
            "chat_context": f.get("chat_context"),
            "legacy_own_message": legacy_messages.get(me),
            "legacy_other_message": legacy_messages.get(f["other"]),
            "legacy_own_voice_note": voice_notes.get(me),
            "legacy_other_voice_note": voice_notes.get(f["other"]),
        }

    def act_as(self, actor: Actor, operation: Operation) -> tuple[str, dict[str, Any]]:
        """The statement that makes this transaction ACTOR's request through OPERATION's API,
        and its parameters."""
        api = operation.api
        claims = actor.claims(self.issued_at, self.spec.claims.get(actor.persona))
        token = bearer_token(claims)
        headers = {
            "accept": "application/json",
            "apikey": "probe",
            "authorization": f"Bearer {token}",
            "x-client-info": "consolidate-probe",
        }
        if api.method in ("POST", "PATCH"):
            headers["content-type"] = "application/json"
        if api.kind == "storage":
            return self._sql("act_as_storage"), {
                "role": actor.role,
                "jwt": token,
                "sub": actor.uid or "",
                "claims": json.dumps(claims),
                "headers": json.dumps(headers),
                "method": api.method,
                "path": f"/object/{self.fixtures['bucket']}",
                "operation": api.operation or "",
            }
        table = (
            operation.id.split(".")[-2] if operation.id.startswith("legacy.") else operation.id.split(".")[0]
        )
        schema = self.config.tables.schema_
        if api.method in ("POST", "PATCH", "DELETE"):
            headers["prefer"] = "return=representation"
        return self._sql("act_as_postgrest"), {
            "search_path": ", ".join(sqlfiles.quote(sql.Identifier(s)) for s in (schema, *EXTRA_SEARCH_PATH)),
            "role": actor.role,
            "role_settings": json.dumps(
                {**self.role_settings.get(AUTHENTICATOR, {}), **self.role_settings.get(actor.role, {})}
            ),
            "claims": json.dumps(claims),
            "method": api.method,
            "path": f"/{table}",
            "headers": json.dumps(headers),
            "cookies": "{}",
        }

    def statement(self, actor: Actor, operation: Operation) -> tuple[str, dict[str, Any]]:
        return _rendered(operation.sql_file, self.config), self.params(actor, operation)

    def _is_trigger_function(self, signature: str) -> bool:
        if signature not in self._trigger_functions:
            row = self.conn.execute(self._sql("is_trigger_function"), {"signature": signature}).fetchone()
            self._trigger_functions[signature] = bool(row and row[0])
        return self._trigger_functions[signature]

    def attempt(self, actor: Actor, operation: Operation) -> Attempt:
        text, params = self.statement(actor, operation)
        shown = self._mogrify.mogrify(text, params).strip()
        act_as, settings_params = self.act_as(actor, operation)
        settings = self._mogrify.mogrify(act_as, settings_params).strip()
        failure: psycopg.Error | None = None
        rows = 0
        with self.conn.transaction(force_rollback=True):
            self.conn.execute(act_as, settings_params)
            try:
                cursor = self.conn.execute(text, params)
                rows = len(cursor.fetchall()) if cursor.description else max(cursor.rowcount, 0)
            except psycopg.Error as exc:
                failure = exc
        if failure is None:
            return Attempt(classify.from_rows(rows), rows, None, None, shown, settings)
        diag = failure.diag
        message = diag.message_primary or str(failure)
        outcome = classify.from_error(diag.sqlstate, message, diag.context, self._is_trigger_function)
        return Attempt(outcome, None, diag.sqlstate, message, shown, settings)


def _rendered(relative: str, config: Config) -> str:
    return sqlfiles.render(relative, identifiers(config))


def world_sql(name: str, config: Config) -> str:
    """The world's statement NAME (sql/policies/world/NAME.sql) in CONFIG's names."""
    return _rendered(f"{WORLD}/{name}.sql", config)


class SqlTransport:
    """Impersonation over one database connection; `mode` "pick" uses real users and sessions
    where the database has them, "create" always makes its own (rolled back either way);
    `issued_at` fixes the tokens' iat (and exp after it), for an export that must not churn."""

    name = "sql"

    def __init__(self, url: str, config: Config, *, mode: str = "pick", issued_at: int | None = None) -> None:
        self.url = url
        self.config = config
        self.mode = mode
        self.issued_at = issued_at

    @contextmanager
    def session(self, spec: AccessSpec) -> Iterator[SqlProbeSession]:
        from consolidation.core import db

        with db.connection(self.url, autocommit=True) as conn:
            try:
                with conn.transaction():
                    conn.execute("SELECT set_config('statement_timeout', %s, true)", [STATEMENT_TIMEOUT])
                    probe = SqlProbeSession(conn, self.config, spec, self.mode, self.issued_at)
                    probe.build()
                    yield probe
                    raise _Rollback
            except _Rollback:
                pass
