"""The configured identifiers every phase's SQL names, keyed as the .sql files spell them."""

from __future__ import annotations

import psycopg
from psycopg import sql

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.errors import ConfigError

TOOL_TABLES = (
    "runs",
    "phase_records",
    "provenance",
    "quarantine",
    "excluded",
    "high_water",
    "link_plan",
    "session_changes",
    "message_sequence",
    "session_sequence",
    "capture_log",
    "capture_forward",
    "app_log",
    "capture_app",
    "baselines",
    "direct_session_id",
    "message_id",
    "storage_inventory",
    "storage_transfers",
    "storage_rewrites",
    "storage_original_text",
    "storage_original_json",
)
CHAT_TABLES = ("messages", "voice_notes", "chat_sessions", "chat_messages")
BACKUP_TABLES = ("profiles", "bookings", *CHAT_TABLES)


def identifiers(config: Config) -> dict[str, sql.Identifier]:
    """Every :"name" the SQL files use: tables as "messages", columns as "messages.id", tool
    objects as "tool.provenance"."""
    schema = config.tables.schema_
    names: dict[str, sql.Identifier] = {"tool": sql.Identifier(config.journal.schema_)}
    for table in BACKUP_TABLES:
        names[table] = sql.Identifier(schema, getattr(config.tables, table))
        for column, name in getattr(config.columns, table).model_dump().items():
            names[f"{table}.{column}"] = sql.Identifier(name)
    names["auth.users"] = sql.Identifier("auth", "users")
    for table in TOOL_TABLES:
        names[f"tool.{table}"] = sql.Identifier(config.journal.schema_, table)
    return names


def table(config: Config, name: str) -> sql.Identifier:
    """The qualified identifier of a mapped table ("messages", "chat_sessions", ...)."""
    return sql.Identifier(config.tables.schema_, getattr(config.tables, name))


# The indexes the access policy's queries need, and its helper functions (in the helper schema).
INDEXES = {
    "index.sessions_participants": ("chat_sessions", "chat_sessions_participants_gin_idx"),
    "index.messages_session_created": ("chat_messages", "chat_messages_session_created_idx"),
}
# Each helper function with its argument types (rollback drops or restores it by signature).
HELPER_FUNCTIONS = {
    "is_chat_admin": "",
    "my_chat_sessions": "",
    "chat_messages_content_only": "",
    "chat_files_listed": "",
    "chat_files_id_floor": "",
    "my_bookings": "",
    "legacy_reference_names": "text, text, text",
    "legacy_file_shared": "text, text",
}


def helper_signature(config: Config, function: str) -> str:
    """FUNCTION of the helper schema as to_regprocedure reads it: "schema"."name"(argument types)."""
    name = sql.Identifier(config.policies.helper_schema, function)
    return f"{sqlfiles.quote(name)}({HELPER_FUNCTIONS[function]})"


def policy_identifiers(config: Config) -> dict[str, sql.Identifier]:
    """identifiers() plus the policies' helper schema, helper functions and indexes."""
    names = identifiers(config)
    helper = config.policies.helper_schema
    names["helper"] = sql.Identifier(helper)
    for function in HELPER_FUNCTIONS:
        names[f"helper.{function}"] = sql.Identifier(helper, function)
    for key, (_table, index) in INDEXES.items():
        names[key] = sql.Identifier(index)
    return names


# Columns whose type the phases rely on, by kind: a mapping that names a text column as an id
# or a text column as metadata would fail mid-phase, so it is refused before anything runs.
_TYPED_COLUMNS = {
    "id": ("uuid",),
    "booking_id": ("uuid",),
    "sender_id": ("uuid",),
    "recipient_id": ("uuid",),
    "user_id": ("uuid",),
    "reader_id": ("uuid",),
    "context_id": ("uuid",),
    "session_id": ("uuid",),
    "metadata": ("jsonb", "json"),
    "participants": ("uuid[]",),
}


def check_mapping(conn: psycopg.Connection, config: Config, tables: tuple[str, ...]) -> None:
    """Refuse (ConfigError, naming the configuration key) a mapping this database does not have:
    a mapped table or column that does not exist, or a column of the wrong type."""
    schema = config.tables.schema_
    wanted = {name: getattr(config.tables, name) for name in tables}
    rows = conn.execute(
        sqlfiles.load("mapping/010_columns.sql"), {"schema": schema, "tables": list(wanted.values())}
    ).fetchall()
    found: dict[str, dict[str, str]] = {}
    for relation, column, type_name, _category in rows:
        found.setdefault(relation, {})[column] = type_name
    problems = []
    for name, relation in wanted.items():
        if relation not in found:
            problems.append(
                f"tables.{name} = {relation!r}: {schema}.{relation} does not exist in this database"
            )
            continue
        for key, column in getattr(config.columns, name).model_dump().items():
            have = found[relation].get(column)
            if have is None:
                problems.append(
                    f"columns.{name}.{key} = {column!r}: {schema}.{relation} has no column {column!r}"
                )
            elif key in _TYPED_COLUMNS and have not in _TYPED_COLUMNS[key]:
                problems.append(
                    f"columns.{name}.{key} = {column!r}: {schema}.{relation}.{column} is {have}, "
                    f"expected {' or '.join(_TYPED_COLUMNS[key])}"
                )
    if problems:
        missing_legacy = all("does not exist" in problem for problem in problems)
        raise ConfigError(
            "the configuration does not match this database:\n  " + "\n  ".join(problems),
            hint="point the keys named above at this database's tables and columns (--config FILE)"
            + ("; or is this the right database? its legacy tables are missing" if missing_legacy else ""),
        )
