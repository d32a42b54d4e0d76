"""The access spec as data: the default is SPEC's table, and a broken spec is refused by name."""

from __future__ import annotations

import pytest

from consolidation.core.errors import ConfigError
from policies.access_spec import DEFAULT_SPEC, PERSONAS, load_spec, parse_spec

# SPEC's "access policy" table: row -> personas for whom it says "yes".
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
    "legacy": {"service_role"},
}


@pytest.mark.parametrize(("row", "allowed"), sorted(SPEC_TABLE.items()))
def test_default_spec_is_specs_table(row: str, allowed: set[str]) -> None:
    spec = load_spec()
    operations = [op for op in spec.operations if op.row == row]
    assert operations, f"no operation probes the row {row!r}"
    for operation in operations:
        assert set(operation.allowed) == allowed, operation.id


def test_default_spec_covers_every_persona_and_target() -> None:
    spec = load_spec()
    assert spec.personas == PERSONAS
    prefixes = {op.id.split(".")[0] for op in spec.operations}
    assert prefixes == {"sessions", "messages", "files", "legacy"}
    assert all(op.when == "legacy_cut_over" for op in spec.operations if op.row == "legacy")


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
