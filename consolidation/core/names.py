"""The configured identifiers every phase's SQL names, keyed as the .sql files spell them."""

from __future__ import annotations

from psycopg import sql

from consolidation.core.config import Config

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
HELPER_FUNCTIONS = (
    "is_chat_admin",
    "my_chat_sessions",
    "chat_messages_content_only",
    "chat_files_listed",
    "chat_files_id_floor",
)


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
