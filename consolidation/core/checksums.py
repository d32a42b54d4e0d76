"""Checksums of the chat tables under fixed output settings, so any two sessions can compare them."""

from __future__ import annotations

import psycopg

from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.core.names import CHAT_TABLES, table


def fix_output_settings(conn: psycopg.Connection) -> None:
    """Row text (and so every md5 of it) depends on these; pin them for the whole session."""
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET datestyle = 'ISO, YMD'")
    conn.execute("SET intervalstyle = 'postgres'")
    conn.execute("SET extra_float_digits = 1")


def chat_checksums(
    conn: psycopg.Connection, config: Config, tables: tuple[str, ...] = CHAT_TABLES
) -> dict[str, dict[str, object]]:
    """Rows and order-independent digest of each chat table (or of TABLES), keyed by logical name."""
    result: dict[str, dict[str, object]] = {}
    for name in tables:
        checksum = table_checksum(conn, table(config, name))
        result[name] = {"rows": checksum.rows, "digest": checksum.digest}
    return result
