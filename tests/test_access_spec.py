"""The access spec as data: the default is SPEC's table, and a broken spec is refused by name."""

from __future__ import annotations

import pytest
from consolidation.policies.access_spec import CUT_OVER, DEFAULT_SPEC, PERSONAS, load_spec, parse_spec

from consolidation.core.errors import ConfigError

# SPEC's "access policy" table: row -> personas for whom it says "yes" (before cut-over; the
# legacy rows' expectations after cut-over are checked below).
SPEC_TABLE = {
    "read": {"participant", "admin", "service_role"},
    "send": {"participant", "service_role"},
    "spoof": {"service_role"},
    "foreign": {"service_role"},
    "edit_own": {"participant", "service_role"},
    "edit_other": {"service_role"},
    "delete": {"service_role"},
    "read_files": {"participant", "admin", "service_role"},
    "upload_own": {"participant", "service_role"},
    "upload_elsewhere": {"service_role"},
    "legacy_interim": {"participant", "admin", "service_role"},
    "legacy_other": {"service_role"},
    "legacy_delete": {"service_role"},
    "bookings": {"participant", "admin", "service_role"},
    "public_files": set(),
    "legacy_files_read": {"participant", "admin", "service_role"},
    "legacy_files_write": {"service_role"},
}
# Rows whose "yes" for a participant is for writing, which SPEC gives admins only to read.
READ_ONLY_FOR_ADMINS = {"legacy_interim", "bookings"}


@pytest.mark.parametrize(("row", "allowed"), sorted(SPEC_TABLE.items()))
def test_default_spec_is_specs_table(row: str, allowed: set[str]) -> None:
    spec = load_spec()
    operations = [op for op in spec.operations if op.row == row]
    assert operations, f"no operation probes the row {row!r}"
    for operation in operations:
        writes = operation.api.method != "GET"
        expected = allowed - {"admin"} if writes and row in READ_ONLY_FOR_ADMINS else allowed
        assert set(operation.allowed) == expected, operation.id


def test_default_spec_covers_every_persona_and_target() -> None:
    spec = load_spec()
    assert spec.personas == PERSONAS
    prefixes = {op.id.split(".")[0] for op in spec.operations}
    assert prefixes == {"sessions", "messages", "files", "legacy", "legacy_files"}
    # Every legacy table and every bucket the chat data has used is probed.
    assert {op.id.split(".")[1] for op in spec.operations if op.id.startswith("legacy.")} == {
        "messages", "voice_notes", "bookings"
    }
    assert {op.bucket for op in spec.operations if op.row.startswith("legacy_files")} == {
        "chat-attachments", "voice-notes"
    }


def test_legacy_tables_are_service_roles_after_cut_over() -> None:
    """SPEC: "legacy tables after cut-over: service_role only"; before it, the interim row."""
    spec = load_spec()
    closed = {CUT_OVER: True}
    for operation in spec.operations:
        if operation.row in ("legacy_interim", "legacy_other"):
            assert operation.expectation(closed).row == "legacy", operation.id
            assert set(operation.expectation(closed).allowed) == {"service_role"}, operation.id
        else:
            assert operation.expectation(closed) == operation.expectation(), operation.id


ROWS = '[rows]\nread = "read"\n'
OPERATION = (
    '[[operations]]\nid = "{id}"\nrow = "{row}"\ntitle = "x"\nallowed = {allowed}\n'
    'api = {{ kind = "postgrest", method = "GET" }}\n'
)
BROKEN = [
    ("unknown key", 'colour = "red"\n' + ROWS, "colour: unknown key"),
    (
        "unknown persona",
        ROWS + OPERATION.format(id="sessions.read", row="read", allowed='["root"]'),
        "allowed",
    ),
    (
        "missing probe SQL",
        ROWS + OPERATION.format(id="sessions.nope", row="read", allowed="[]"),
        "without probe SQL: sessions.nope",
    ),
    (
        "unknown row",
        ROWS + OPERATION.format(id="sessions.read", row="nope", allowed="[]"),
        "names row 'nope'",
    ),
    ("twice", ROWS + OPERATION.format(id="sessions.read", row="read", allowed="[]") * 2, "listed twice"),
]


@pytest.mark.parametrize(("case", "toml", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_specs_are_refused(case: str, toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_spec('schema_version = 1\npersonas = ["anon"]\n' + toml)


def test_default_file_is_shipped_with_the_package() -> None:
    assert DEFAULT_SPEC.is_file() and DEFAULT_SPEC.parent.name == "policies"


def test_claims_per_persona_are_read_and_may_not_change_who_the_persona_is() -> None:
    text = DEFAULT_SPEC.read_text()
    spec = parse_spec(text + '\n[claims.admin]\naal = "aal2"\nis_anonymous = false\n')
    assert spec.claims == {"admin": {"aal": "aal2", "is_anonymous": False}}
    with pytest.raises(ConfigError, match="claims.participant sets role, sub"):
        parse_spec(text + '\n[claims.participant]\nrole = "service_role"\nsub = "x"\n')
    with pytest.raises(ConfigError, match="claims.robot"):
        parse_spec(text + '\n[claims.robot]\naal = "aal2"\n')
