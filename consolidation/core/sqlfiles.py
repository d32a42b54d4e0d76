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

from consolidation.core.errors import ConfigError

# :"name" is a quoted identifier; :'name' the same name as a string literal (psql's syntax),
# for the few places that need a configured column's name as a value (jsonb keys).
_PLACEHOLDER = re.compile(r""":(["'])([A-Za-z_][A-Za-z0-9_.]*)\1""")


@cache
def sql_root() -> Path:
    """The sql/ folder: shipped inside the wheel, or at the project root in a checkout."""
    packaged = Path(__file__).parent.parent / "_sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "sql"


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
        quote_mark, key = match.groups()
        if key not in names:
            placeholder = f":{quote_mark}{key}{quote_mark}"
            raise ConfigError(f"{source} uses {placeholder} but nothing of that name is mapped")
        if quote_mark == "'":
            return sql.Literal(_last_name(names[key])).as_string(None)
        return quote(names[key])

    return _PLACEHOLDER.sub(substitute, text)


def _last_name(identifier: sql.Identifier) -> str:
    """The unquoted last part of IDENTIFIER: for public.messages, messages."""
    last = re.search(r'"((?:[^"]|"")*)"$', quote(identifier))
    assert last, "psycopg always double-quotes identifiers"
    return last.group(1).replace('""', '"')


def files(folder: str) -> list[str]:
    """The .sql files of sql/FOLDER in name order, as paths relative to sql/."""
    return sorted(
        f"{folder}/{path.name}" for path in (sql_root() / folder).glob("*.sql") if path.is_file()
    )
