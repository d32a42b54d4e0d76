"""Load the SQL we run from the .sql files under sql/ and fill in configured identifiers.

Files use psql's identifier-variable syntax, :"name", for every table or column name that
comes from configuration; values are always bind parameters. Rendering produces the exact
text an operator previews, and that same text is what runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from psycopg import sql

from consolidation.errors import ConfigError

_PLACEHOLDER = re.compile(r':"([A-Za-z_][A-Za-z0-9_.]*)"')


@cache
def sql_root() -> Path:
    """The sql/ folder: shipped inside the wheel, or at the project root in a checkout."""
    packaged = Path(__file__).parent / "_sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "sql"


@cache
def load(relative: str) -> str:
    path = sql_root() / relative
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {relative} is missing from {sql_root()}")
    return path.read_text(encoding="utf-8")


def quote(identifier: sql.Identifier) -> str:
    return identifier.as_string(None)


def render(relative: str, identifiers: Mapping[str, sql.Identifier] | None = None) -> str:
    """The text of sql/RELATIVE with every :"name" replaced by its quoted identifier."""
    return render_text(load(relative), identifiers, source=relative)


def render_text(
    text: str, identifiers: Mapping[str, sql.Identifier] | None = None, *, source: str = "<text>"
) -> str:
    names = identifiers or {}

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in names:
            raise ConfigError(f"{source} uses :\"{key}\" but no identifier of that name is mapped")
        return quote(names[key])

    return _PLACEHOLDER.sub(substitute, text)


def files(folder: str) -> list[str]:
    """The .sql files of sql/FOLDER in name order, as paths relative to sql/."""
    return sorted(
        f"{folder}/{path.name}" for path in (sql_root() / folder).glob("*.sql") if path.is_file()
    )
