"""The config: validated before anything runs, errors name the bad key, identifiers never run."""

from __future__ import annotations

import tomllib
from pathlib import Path

import psycopg
import pytest
from conftest import consolidate
from psycopg import sql

from consolidation.core import sqlfiles
from consolidation.core.config import Config, load_config, parse_config
from consolidation.core.errors import ConfigError
from consolidation.pytest_plugin import LocalDatabase

CASES = tomllib.loads((Path(__file__).parent / "fixtures/configs/cases.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_config_cases(case: dict) -> None:
    if not case["errors"]:
        assert isinstance(parse_config(case["text"]), Config)
        return
    with pytest.raises(ConfigError) as caught:
        parse_config(case["text"], "case.toml")
    for key in case["errors"]:
        assert key in str(caught.value)


def test_fingerprint_changes_with_the_mapping() -> None:
    default = Config()
    renamed = parse_config('[tables]\nmessages = "legacy_messages"\n')
    assert default.fingerprint() == Config().fingerprint()
    assert default.fingerprint() != renamed.fingerprint()
    # How many workers at what pace is not how rows are consolidated: a resume may change them.
    paced = parse_config("[merge]\nworkers = 1\npause_ratio = 2\n")
    assert paced.merge.pause_ratio == 2 and paced.fingerprint() == default.fingerprint()


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_hostile_table_name_is_quoted_never_executed(empty_db: LocalDatabase) -> None:
    config = parse_config('[tables]\nmessages = "messages; drop table victim; --"\n')
    names = {"messages": sql.Identifier(config.tables.schema_, config.tables.messages)}
    text = sqlfiles.render_text('SELECT count(*) FROM :"messages"', names)
    assert text == 'SELECT count(*) FROM "public"."messages; drop table victim; --"'
    with empty_db.connect() as conn:
        conn.execute("CREATE TABLE public.victim (id int)")
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute(text)
        assert conn.execute("SELECT to_regclass('public.victim') IS NOT NULL").fetchone()[0]


def test_unmapped_placeholder_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="chat_messages"):
        sqlfiles.render_text('SELECT 1 FROM :"chat_messages"', {})


def test_cli_without_a_stack_says_what_to_run(tmp_path: Path) -> None:
    result = consolidate(None, "stack", "env", "--dir", str(tmp_path))
    assert result.returncode == 3
    assert "consolidate stack up" in result.stderr
