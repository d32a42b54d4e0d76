"""The consolidation config: table and column mapping, type mapping, session rule, buckets.

The default is SPEC's seed-shaped mapping; a TOML file overrides any part of it and is
validated before anything runs, with errors that name the offending key.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
import uuid
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from consolidation.core.errors import ConfigError

CONFIG_ENV = "CONSOLIDATION_CONFIG"
# The storage backend is chosen by the environment; the service key is read from it only.
BACKEND_ENV = "CONSOLIDATION_STORAGE_BACKEND"
ROOT_ENV = "CONSOLIDATION_STORAGE_ROOT"
URL_ENV = "CONSOLIDATION_STORAGE_URL"
KEY_ENV = "CONSOLIDATION_SERVICE_KEY"


def _identifier(value: str) -> str:
    # Identifiers are always composed with psycopg.sql.Identifier, so quoting makes any
    # text safe; we still refuse what PostgreSQL itself would truncate or reject.
    if not value or "\x00" in value:
        raise ValueError("must be a non-empty identifier without NUL bytes")
    if len(value.encode()) > 63:
        raise ValueError("is longer than PostgreSQL's 63-byte identifier limit")
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tables(Strict):
    schema_: Identifier = Field("public", alias="schema")
    profiles: Identifier = "profiles"
    bookings: Identifier = "bookings"
    messages: Identifier = "messages"
    voice_notes: Identifier = "voice_notes"
    chat_sessions: Identifier = "chat_sessions"
    chat_messages: Identifier = "chat_messages"


class ProfilesColumns(Strict):
    id: Identifier = "id"
    role: Identifier = "role"


class BookingsColumns(Strict):
    id: Identifier = "id"
    user_id: Identifier = "user_id"
    reader_id: Identifier = "reader_id"
    status: Identifier = "status"
    created_at: Identifier = "created_at"


class MessagesColumns(Strict):
    id: Identifier = "id"
    booking_id: Identifier = "booking_id"
    sender_id: Identifier = "sender_id"
    recipient_id: Identifier = "recipient_id"
    type: Identifier = "type"
    content: Identifier = "content"
    file_url: Identifier = "file_url"
    metadata: Identifier = "metadata"
    created_at: Identifier = "created_at"


class VoiceNotesColumns(Strict):
    id: Identifier = "id"
    user_id: Identifier = "user_id"
    context_type: Identifier = "context_type"
    context_id: Identifier = "context_id"
    file_url: Identifier = "file_url"
    file_name: Identifier = "file_name"
    file_size: Identifier = "file_size"
    duration_seconds: Identifier = "duration_seconds"
    created_at: Identifier = "created_at"


class ChatSessionsColumns(Strict):
    id: Identifier = "id"
    participants: Identifier = "participants"
    type: Identifier = "type"
    booking_id: Identifier = "booking_id"
    status: Identifier = "status"
    created_at: Identifier = "created_at"
    last_message_at: Identifier = "last_message_at"


class ChatMessagesColumns(Strict):
    id: Identifier = "id"
    session_id: Identifier = "session_id"
    sender_id: Identifier = "sender_id"
    type: Identifier = "type"
    content: Identifier = "content"
    file_url: Identifier = "file_url"
    file_name: Identifier = "file_name"
    file_size: Identifier = "file_size"
    duration_seconds: Identifier = "duration_seconds"
    reply_to_message_id: Identifier = "reply_to_message_id"
    metadata: Identifier = "metadata"
    created_at: Identifier = "created_at"


class Columns(Strict):
    profiles: ProfilesColumns = ProfilesColumns()
    bookings: BookingsColumns = BookingsColumns()
    messages: MessagesColumns = MessagesColumns()
    voice_notes: VoiceNotesColumns = VoiceNotesColumns()
    chat_sessions: ChatSessionsColumns = ChatSessionsColumns()
    chat_messages: ChatMessagesColumns = ChatMessagesColumns()


ChatType = Literal["text", "image", "file", "audio"]


class SessionRule(Strict):
    # Namespace of the direct-session key: the same participant pair gives the same
    # session id on every run and machine, and a different deployment can pick its own.
    direct_namespace: uuid.UUID = uuid.UUID("5b0c61d4-6c63-4c1e-9f0e-3a7d2f1c9e55")
    booking_status: dict[str, Literal["active", "ended"]] = {
        "pending": "active",
        "active": "active",
        "completed": "ended",
        "cancelled": "ended",
    }


class VoiceNotes(Strict):
    chat_context_types: tuple[str, ...] = ("chat",)
    message_type: ChatType = "audio"


class Merge(Strict):
    batch_size: int = Field(20_000, gt=0, le=1_000_000)
    lock_timeout_ms: int = Field(2000, gt=0)
    statement_timeout_ms: int = Field(120_000, gt=0)
    max_retries: int = Field(6, ge=0)
    # Connections merging parts of the sources' key ranges side by side. Each is one busy
    # backend on the server: two use two cores while the app keeps its own.
    workers: int = Field(2, gt=0, le=16)
    # After each batch a worker pauses this many times as long as the batch took (0: never), so
    # the merge leaves the server idle time for the app's own queries: 1 halves its pace.
    pause_ratio: float = Field(0.0, ge=0, le=100)
    # A source row without created_at: quarantined (reason missing_created_at), or given the
    # created_at of the booking it belongs to (rows in no booking are quarantined all the same).
    missing_created_at: Literal["quarantine", "booking_created_at"] = "quarantine"


# The forms a file reference is found in (storage_migration.references.ReferenceStyle), and the
# forms a reference into the private target bucket may be written in: never a public URL (the
# Storage API answers 400 to everyone for a public URL into a private bucket), never a signed
# one (it needs a token bound to the path).
SourceForm = Literal[
    "public_url", "authenticated_url", "signed_url", "render_url", "object_url", "bucket_path", "path"
]
TargetForm = Literal["bucket_path", "authenticated_url"]


class Storage(Strict):
    legacy_buckets: tuple[str, ...] = ("chat-attachments", "voice-notes")
    target_bucket: str = "chat-files"
    # How a rewritten reference reads, by the form it was found in: `chat-files/<session>/<sender>/
    # <file>` by default, or the authenticated URL the signed-in app fetches with its token.
    reference_forms: dict[SourceForm, TargetForm] = {
        "public_url": "bucket_path",
        "authenticated_url": "bucket_path",
        "signed_url": "bucket_path",
        "render_url": "bucket_path",
        "object_url": "bucket_path",
        "bucket_path": "bucket_path",
        "path": "bucket_path",
    }
    keep_sources: bool = False
    move_unreferenced: bool = False
    concurrency: int = Field(8, gt=0, le=64)
    # URLs of this host are this project's; the seeded stack's references use this one.
    project_url: str = "http://127.0.0.1:54321"
    # The bucket a bare path (no bucket in it) names, by the table holding the reference.
    bare_path_buckets: dict[str, str] = {"messages": "chat-attachments", "voice_notes": "voice-notes"}


class Policies(Strict):
    admin_roles: tuple[str, ...] = ("admin", "super_admin")
    admin_source: Literal["function", "claim"] = "function"
    # Where the policies' helper functions live: a schema the Data API does not expose.
    helper_schema: Identifier = "chat_private"


class Constraints(Strict):
    # auth.users by default: merge accepts a sender found in profiles or auth.users, and every
    # profile is an auth user, so only auth.users never rejects a row merge migrated.
    sender_references: Literal["profiles", "auth.users"] = "auth.users"
    lock_timeout_ms: int = Field(500, gt=0)
    # 0 = no limit: validation and concurrent index builds scan the table without blocking writes.
    statement_timeout_ms: int = Field(0, ge=0)
    max_retries: int = Field(8, ge=0)
    # Violating rows the plan shows per constraint (the count is always exact).
    violation_sample: int = Field(10, ge=0, le=1000)


class Sync(Strict):
    """The transition window's forwarder (`consolidate sync`): how often it looks, how much it takes."""

    # Captured changes per forwarding transaction (each source in turn).
    batch_size: int = Field(2_000, gt=0, le=1_000_000)
    # How long an idle sync waits before it looks at the capture log again (the floor of its lag).
    poll_ms: int = Field(100, gt=0, le=60_000)
    # At most this often, while changes keep coming, the sessions written into are sequenced and
    # the snapshot of the app's chat messages that forwarded rows may link to is taken again
    # (both read the whole chat_messages table); always once the backlog is drained.
    sequence_seconds: float = Field(5.0, gt=0, le=3600)
    # While sync runs: a line every so many seconds with what it forwarded and its lag.
    report_seconds: float = Field(10.0, gt=0, le=3600)
    # The way back: what the new app writes into chat_messages in a session with a legacy home
    # (a booking, a direct pair) is written into the legacy messages table for the old app.
    write_back: bool = True


class Cutover(Strict):
    # The publication Supabase Realtime streams changes from: cut-over puts chat_messages and
    # chat_sessions in it and takes the legacy messaging tables out, its rollback restores it as
    # it was; "" leaves every publication alone.
    realtime_publication: str = Field("supabase_realtime", max_length=63)


class Journal(Strict):
    schema_: Identifier = Field("consolidation", alias="schema")


class Database(Strict):
    # Optional pin: refuse to write to any database whose system identifier differs
    # (also $CONSOLIDATION_EXPECTED_SYSTEM_IDENTIFIER).
    expected_system_identifier: str | None = None
    # System identifiers of databases this one's journal was deliberately copied from (a
    # restored dump, a rehearsal on staging): without it, a journal written elsewhere is refused.
    adopt_journal_from: tuple[str, ...] = ()


def _case_blind_type_map(value: dict[str, ChatType]) -> dict[str, ChatType]:
    # Legacy types match in any case ('Image' is image), so two keys differing only in case
    # must agree on what they map to.
    seen: dict[str, tuple[str, str]] = {}
    for key, chat_type in value.items():
        earlier = seen.setdefault(key.lower(), (key, chat_type))
        if earlier[1] != chat_type:
            raise ValueError(
                f"keys {earlier[0]!r} and {key!r} differ only in case but map to {earlier[1]!r} and "
                f"{chat_type!r} (types match in any case)"
            )
    return value


class Config(Strict):
    tables: Tables = Tables()
    columns: Columns = Columns()
    type_map: Annotated[dict[str, ChatType], AfterValidator(_case_blind_type_map)] = {
        "text": "text",
        "image": "image",
        "file": "file",
        "voice": "audio",
        "audio": "audio",
    }
    session_rule: SessionRule = SessionRule()
    voice_notes: VoiceNotes = VoiceNotes()
    merge: Merge = Merge()
    storage: Storage = Storage()
    policies: Policies = Policies()
    constraints: Constraints = Constraints()
    journal: Journal = Journal()
    database: Database = Database()
    sync: Sync = Sync()
    cutover: Cutover = Cutover()

    def fingerprint(self) -> str:
        """A stable hash of the effective configuration, recorded in the journal."""
        # Which database, how many workers at what pace, how sync paces itself and what Realtime
        # streams is not how it is consolidated: pinning one or changing the others must not stop
        # a resume.
        mapping = self.model_dump(
            mode="json",
            by_alias=True,
            exclude={"database": True, "sync": True, "cutover": True, "merge": {"workers", "pause_ratio"}},
        )
        canonical = json.dumps(mapping, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"invalid configuration in {source}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        reason = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"  {key}: {reason}")
    return "\n".join(lines)


def parse_config(text: str, source: str = "<string>") -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from exc
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source), hint="fix the keys named above") from exc


def load_config(path: str | Path | None = None) -> Config:
    """Load the config from PATH, else $CONSOLIDATION_CONFIG, else the default mapping."""
    chosen = path or os.environ.get(CONFIG_ENV)
    if not chosen:
        return Config()
    file = Path(chosen)
    if not file.is_file():
        raise ConfigError(f"configuration file {file} does not exist")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file} is not UTF-8 text (byte {exc.start}: {exc.reason})",
            hint="save the configuration as UTF-8 TOML",
        ) from None
    return parse_config(text, str(file))
