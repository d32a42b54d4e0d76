"""Realtime follows the switch: which messaging tables Supabase Realtime's publication streams.

Cut-over puts chat_messages and chat_sessions in the publication and takes the legacy messaging
tables out, so the new app's subscriptions see every message once the old path closes; its
rollback puts the publication back as it was for exactly those tables (others are the app's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.names import identifiers

PUBLISHED = ("chat_messages", "chat_sessions")
UNPUBLISHED = ("messages", "voice_notes")
ADD = "realtime/020_add_table.sql"
DROP = "realtime/030_drop_table.sql"


@dataclass(frozen=True)
class Publication:
    """The publication's standing for the tables cut-over touches (by logical name)."""

    name: str
    exists: bool = False
    all_tables: bool = False
    members: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "exists": self.exists,
            "all_tables": self.all_tables,
            "members": list(self.members),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Publication:
        return cls(data["name"], data["exists"], data["all_tables"], tuple(data["members"]))

    def shown(self) -> str:
        if not self.exists:
            return f"{self.name}: no such publication"
        if self.all_tables:
            return f"{self.name}: every table (FOR ALL TABLES)"
        return f"{self.name}: " + (", ".join(self.members) or "none of the messaging tables")


def _touched(config: Config) -> dict[tuple[str, str], str]:
    return {(config.tables.schema_, getattr(config.tables, name)): name for name in PUBLISHED + UNPUBLISHED}


def standing(conn: psycopg.Connection, config: Config) -> Publication | None:
    """The configured publication's standing (None when cutover.realtime_publication is "")."""
    name = config.cutover.realtime_publication
    if not name:
        return None
    touched = _touched(config)
    rows = conn.execute(sqlfiles.load("realtime/010_members.sql"), {"publication": name}).fetchall()
    if not rows:
        return Publication(name)
    members = tuple(sorted(touched[(s, t)] for _all, s, t in rows if (s, t) in touched))
    return Publication(name, True, bool(rows[0][0]), members)


def _statement(config: Config, path: str, table: str) -> str:
    names = {**identifiers(config), "publication": sql.Identifier(config.cutover.realtime_publication)}
    return sqlfiles.render(path, {**names, "table": names[table]})


def toward(config: Config, now: Publication | None, wanted: set[str]) -> list[str]:
    """The statements that make the publication name exactly WANTED of the touched tables."""
    if now is None or not now.exists or now.all_tables:
        return []
    present = set(now.members)
    return [_statement(config, ADD, name) for name in sorted(wanted - present)] + [
        _statement(config, DROP, name) for name in sorted(present - wanted)
    ]


def switch_statements(config: Config, now: Publication | None) -> list[str]:
    """Cut-over's: the chat tables in, the legacy messaging tables out."""
    if now is None:
        return []
    return toward(config, now, (set(now.members) - set(UNPUBLISHED)) | set(PUBLISHED))


def restore_statements(config: Config, now: Publication | None, before: Publication | None) -> list[str]:
    """Rollback's: the touched tables as BEFORE had them."""
    if before is None:
        return []
    return toward(config, now, set(before.members))
