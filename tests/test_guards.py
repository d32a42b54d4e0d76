"""Guards: --apply on another database than the pinned one or the journal's is refused before any write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from conftest import apply, consolidate
from psycopg import sql

from consolidation.core import journal
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.core.errors import DatabaseMismatch, ExitCode
from consolidation.pytest_plugin import LocalDatabase

ORIGIN = "7000000000000000001"  # the production cluster a restored dump's journal names
OTHER = "7000000000000000002"


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    # "fresh": the seeded legacy database, no tool schema yet; "copied": a journal whose runs were
    # all recorded on ORIGIN, as a dump of production restored into staging has it.
    journal: str = "fresh"
    config: str = ""  # {this} stands for this database's system identifier
    env: dict[str, str] = field(default_factory=dict)
    exit_code: ExitCode = ExitCode.USAGE
    says: str = ""


PIN_OTHER = f'[database]\nexpected_system_identifier = "{OTHER}"\n'
PIN_THIS = '[database]\nexpected_system_identifier = "{this}"\n'
ADOPT = f'[database]\nadopt_journal_from = ["{ORIGIN}"]\n'
COPIED = f"written on another database (system identifier {ORIGIN}"
CASES = [
    Case("pinned by config, other database", ["backup", "--apply"], config=PIN_OTHER, says=f"pins {OTHER}"),
    Case(
        "pinned by environment, other database",
        ["merge", "--apply", "--force-order"],
        env={journal.EXPECTED_SYSTEM_IDENTIFIER_ENV: OTHER},
        says=f"{journal.EXPECTED_SYSTEM_IDENTIFIER_ENV} pins {OTHER}",
    ),
    Case("pinned to this database", ["backup", "--apply"], config=PIN_THIS, exit_code=ExitCode.OK),
    Case("pinned elsewhere, preview only", ["backup"], config=PIN_OTHER, exit_code=ExitCode.OK),
    Case("restored dump, merge resumes", ["merge", "--apply"], journal="copied", says=COPIED),
    Case("restored dump, storage", ["storage", "--apply", "--force-order"], journal="copied", says=COPIED),
    Case("restored dump, policies", ["policies", "--apply"], journal="copied", says=COPIED),
    Case(
        "restored dump, rollback", ["rollback", "--phase", "backup", "--apply"], journal="copied", says=COPIED
    ),
    Case(
        "restored dump, pinned here but not adopted",
        ["backup", "--apply"],
        journal="copied",
        config=PIN_THIS,
        says=COPIED,
    ),
    Case(
        "restored dump, adopted", ["merge", "--apply"], journal="copied", config=ADOPT, exit_code=ExitCode.OK
    ),
]


def footprint(conn: psycopg.Connection) -> dict[str, object]:
    """What any write would change: the schemas and tables, the journal's rows, the chat tables' content."""
    fix_output_settings(conn)
    relations = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2"
    ).fetchall()
    found: dict[str, object] = {"relations": relations}
    for schema, name in (("consolidation", "runs"), ("consolidation", "phase_records")):
        if (schema, name) in relations:
            found[name] = table_checksum(conn, sql.Identifier(schema, name)).digest
    for name in ("messages", "voice_notes", "chat_sessions", "chat_messages"):
        found[name] = table_checksum(conn, sql.Identifier("public", name)).digest
    found["policies"] = conn.execute("SELECT count(*) FROM pg_policies").fetchone()[0]
    return found


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_apply_is_refused_on_the_wrong_database(legacy_db: LocalDatabase, tmp_path: Path, case: Case) -> None:
    with legacy_db.connect() as conn:
        this = journal.system_identifier(conn)
        if case.journal == "copied":
            apply(legacy_db, "backup")
            conn.execute("UPDATE consolidation.runs SET system_identifier = %s", [ORIGIN])
        before = footprint(conn)
    argv = list(case.argv)
    if case.config:
        config = tmp_path / "consolidate.toml"
        config.write_text(case.config.replace("{this}", this))
        argv += ["--config", str(config)]
    done = consolidate(legacy_db, *argv, env=case.env)
    assert done.returncode == case.exit_code, done.stderr
    with legacy_db.connect() as conn:
        after = footprint(conn)
    if case.exit_code == ExitCode.OK:
        assert "--apply" not in case.argv or after != before, "an accepted --apply records its run"
        return
    assert after == before, "a refused --apply writes nothing, not even the journal's schema"
    message = " ".join(done.stderr.split())
    assert case.says in message and this in message and "next:" in message
    assert "Traceback" not in done.stderr


def test_the_pin_is_checked_before_the_journal_is_installed(empty_db: LocalDatabase) -> None:
    pinned = Config.model_validate({"database": {"expected_system_identifier": OTHER}})
    with empty_db.connect() as conn:
        with pytest.raises(DatabaseMismatch, match=f"pins {OTHER}"):
            journal.start_run(conn, pinned, "test")
        assert not journal.installed(conn, pinned)


def test_pinning_does_not_change_the_config_fingerprint() -> None:
    pinned = Config.model_validate(
        {"database": {"expected_system_identifier": OTHER, "adopt_journal_from": [ORIGIN]}}
    )
    assert pinned.fingerprint() == Config().fingerprint()
