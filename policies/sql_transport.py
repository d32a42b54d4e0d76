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

import psycopg
from psycopg import ClientCursor, sql
from psycopg.types.json import Jsonb

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.names import policy_identifiers as identifiers
from policies import classify
from policies.access_spec import AccessSpec, Operation
from policies.transport import Actor, Attempt, bearer_token

WORLD = "policies/world"
CUT_OVER = "legacy_cut_over"
# A probe that hangs (a lock held elsewhere) must fail as an error, not stall the matrix; a
# table operation runs under its roles' own timeouts, where they have them, as through PostgREST.
STATEMENT_TIMEOUT = "5s"
# The login PostgREST connects as: its settings hold for the session, the role's on top.
AUTHENTICATOR = "authenticator"
# Supabase's PostgREST: db-extra-search-path = "public, extensions", after the requested schema.
EXTRA_SEARCH_PATH = ("public", "extensions")


class _Rollback(Exception):
    """Raised to leave the probe transaction: nothing a probe did may stay."""


class SqlProbeSession:
    """Personas and fixtures inside the open probe transaction; attempts run in savepoints."""

    def __init__(self, conn: psycopg.Connection, config: Config, spec: AccessSpec, mode: str) -> None:
        self.conn = conn
        self.config = config
        self.spec = spec
        self.mode = mode
        self.names = identifiers(config)
        self.actors: dict[str, Actor] = {}
        self.fixtures: dict[str, Any] = {}
        self.setup_statements: list[str] = []
        self.conditions: dict[str, bool] = {}
        self._mogrify = ClientCursor(conn)
        self._trigger_functions: dict[str, bool] = {}
        self.issued_at = int(time.time())
        self.role_settings: dict[str, dict[str, str]] = {}

    # -- the world: picked from the database, created where missing ---------------------------

    def _sql(self, name: str) -> str:
        return _rendered(f"{WORLD}/{name}.sql", self.config)

    def _setup(self, name: str, params: dict[str, Any]) -> None:
        text = self._sql(name)
        self.setup_statements.append(self._mogrify.mogrify(text, params).strip() + ";")
        self.conn.execute(text, params)

    def _one(self, name: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        if self.mode == "create":
            return None
        return self.conn.execute(self._sql(name), params).fetchone()

    def _user(self, persona: str, role: str, row: tuple[Any, ...] | None, profile_role: str) -> Actor:
        if row is not None:
            return Actor(persona, "authenticated", str(row[0]), row[1], dict(row[2]), "picked")
        uid = str(uuid.uuid4())
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
            session = str(uuid.uuid4())
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
            foreign_session = str(uuid.uuid4())
            self._setup("create_session", {"id": foreign_session, "participants": [stranger.uid, other.uid]})
        empty_session = str(uuid.uuid4())
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
            messages[user.uid] = str(uuid.uuid4())
            self._setup("create_message", {"id": messages[user.uid], "session": session, "sender": user.uid})
            files[user.uid] = f"{session}/{user.uid}/probe-own-{user.uid[:8]}.txt"
            self._setup(
                "create_object",
                {"bucket": bucket, "name": files[user.uid], "owner": user.uid, "version": str(uuid.uuid4())},
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
        schema = self.config.tables.schema_
        legacy = [self.config.tables.messages, self.config.tables.voice_notes]
        row = self.conn.execute(self._sql("legacy_cut_over"), {"schema": schema, "tables": legacy}).fetchone()
        self.conditions[CUT_OVER] = bool(row and row[0])
        if self.conditions[CUT_OVER]:
            self.fixtures["legacy_message"] = str(uuid.uuid4())
            self.fixtures["legacy_voice_note"] = str(uuid.uuid4())
            self._setup(
                "create_legacy_rows",
                {
                    "message": self.fixtures["legacy_message"],
                    "voice_note": self.fixtures["legacy_voice_note"],
                    "sender": participant.uid,
                    "recipient": other.uid,
                    "session": session,
                },
            )

    # -- one attempt --------------------------------------------------------------------------

    def skip_reason(self, operation: Operation) -> str | None:
        if operation.when and not self.conditions.get(operation.when, False):
            return f"condition {operation.when} is not met (the legacy cut-over policies are not installed)"
        return None

    def params(self, actor: Actor) -> dict[str, Any]:
        f = self.fixtures
        me = actor.uid or f["participant"]
        tag = uuid.uuid4().hex[:8]
        return {
            "uid": actor.uid,
            "self": me,
            "other": f["other"],
            "session": f["session"],
            "foreign_session": f["foreign_session"],
            "empty_session": f["empty_session"],
            "new_session": str(uuid.uuid4()),
            "new_id": str(uuid.uuid4()),
            "own_message": f["messages"][me],
            "other_message": f["messages"][f["other"]],
            "bucket": f["bucket"],
            "version": str(uuid.uuid4()),
            "own_file": f["files"][me],
            "other_file": f["files"][f["other"]],
            "session_prefix": f"{f['session']}/%",
            "new_file": f"{f['session']}/{me}/probe-new-{tag}.txt",
            "moved_file": f"{f['session']}/{me}/probe-moved-{tag}.txt",
            "other_folder_file": f"{f['session']}/{f['other']}/probe-new-{tag}.txt",
            "foreign_file": f"{f['foreign_session']}/{me}/probe-new-{tag}.txt",
            "legacy_message": f.get("legacy_message"),
            "legacy_voice_note": f.get("legacy_voice_note"),
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
        return _rendered(operation.sql_file, self.config), self.params(actor)

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


class SqlTransport:
    """Impersonation over one database connection; `mode` "pick" uses real users and sessions
    where the database has them, "create" always makes its own (rolled back either way)."""

    name = "sql"

    def __init__(self, url: str, config: Config, *, mode: str = "pick") -> None:
        self.url = url
        self.config = config
        self.mode = mode

    @contextmanager
    def session(self, spec: AccessSpec) -> Iterator[SqlProbeSession]:
        from consolidation.core import db

        with db.connection(self.url, autocommit=True) as conn:
            try:
                with conn.transaction():
                    conn.execute("SELECT set_config('statement_timeout', %s, true)", [STATEMENT_TIMEOUT])
                    probe = SqlProbeSession(conn, self.config, spec, self.mode)
                    probe.build()
                    yield probe
                    raise _Rollback
            except _Rollback:
                pass
