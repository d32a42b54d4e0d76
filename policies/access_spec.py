"""The access spec as data: personas × operations × expected verdict, loaded from TOML."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from consolidation.core import sqlfiles
from consolidation.core.errors import ConfigError

PERSONAS = ("anon", "participant", "outsider", "admin", "service_role")
Persona = Literal["anon", "participant", "outsider", "admin", "service_role"]
DEFAULT_SPEC = Path(__file__).parent / "access_spec.toml"
SCHEMA_VERSION = 1
PROBE_FOLDER = "policies/probes"

# The state the probe finds the database in that changes what SPEC expects: the legacy tables
# before cut-over (interim: their own rows to their participants) and after (service_role only).
CUT_OVER = "legacy_cut_over"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Api(_Strict):
    """How the real API reaches the database for this operation (settings the probe mirrors)."""

    kind: Literal["postgrest", "storage"]
    method: Literal["GET", "POST", "PATCH", "DELETE"]
    operation: str | None = None
    # "service": the API runs the statement as its own service role whoever calls (the Storage
    # API's public route: no sign-in, no policy), so the probe acts as service_role for it.
    runs_as: Literal["caller", "service"] = "caller"


class Expectation(_Strict):
    """Who may do an operation in one state of the database, and the SPEC row saying so."""

    row: str
    allowed: tuple[Persona, ...]


class Operation(_Strict):
    id: str
    row: str
    title: str
    allowed: tuple[Persona, ...]
    api: Api
    # The probe SQL (sql/policies/probes/<probe>.sql); several operations may share one, each
    # on its own bucket.
    probe: str | None = None
    # The storage bucket a files operation acts on (default: the configured chat bucket).
    bucket: str | None = None
    # What SPEC expects instead once the legacy tables are cut over.
    cut_over: Expectation | None = None

    @property
    def probe_name(self) -> str:
        return self.probe or self.id

    @property
    def sql_file(self) -> str:
        return f"{PROBE_FOLDER}/{self.probe_name}.sql"

    def expectation(self, conditions: Mapping[str, bool] | None = None) -> Expectation:
        """SPEC's row and allowed personas in the state CONDITIONS describe."""
        if self.cut_over is not None and (conditions or {}).get(CUT_OVER, False):
            return self.cut_over
        return Expectation(row=self.row, allowed=self.allowed)

    def expects_allowed(self, persona: str, conditions: Mapping[str, bool] | None = None) -> bool:
        return persona in self.expectation(conditions).allowed


# Claims that follow from the persona itself (its API role, its user) and cannot be overridden.
FIXED_CLAIMS = ("role", "sub")


class AccessSpec(_Strict):
    schema_version: Literal[1]
    personas: tuple[Persona, ...]
    rows: dict[str, str]
    operations: tuple[Operation, ...]
    # Per persona, claims laid over its token's (aal = "aal2" for a user who passed MFA,
    # is_anonymous = true for an anonymous sign-in, ...).
    claims: dict[Persona, dict[str, Any]] = {}

    @model_validator(mode="after")
    def _consistent(self) -> AccessSpec:
        for persona, claims in self.claims.items():
            fixed = sorted(set(claims) & set(FIXED_CLAIMS))
            if fixed:
                raise ValueError(f"claims.{persona} sets {', '.join(fixed)}, which the persona decides")
        seen: set[str] = set()
        for operation in self.operations:
            if operation.id in seen:
                raise ValueError(f"operation {operation.id} is listed twice")
            seen.add(operation.id)
            rows = [operation.row] + ([operation.cut_over.row] if operation.cut_over else [])
            for row in rows:
                if row not in self.rows:
                    raise ValueError(f"operation {operation.id} names row {row!r}, which [rows] lacks")
        return self

    @cached_property
    def by_id(self) -> dict[str, Operation]:
        return {operation.id: operation for operation in self.operations}

    def expected(self, persona: str, operation_id: str, conditions: Mapping[str, bool] | None = None) -> bool:
        return self.by_id[operation_id].expects_allowed(persona, conditions)


def parse_spec(text: str, source: str = "<string>") -> AccessSpec:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"access spec {source} is not valid TOML: {exc}") from exc
    try:
        spec = AccessSpec.model_validate(raw)
    except ValidationError as exc:
        lines = [f"invalid access spec in {source}:"]
        for item in exc.errors():
            key = ".".join(str(part) for part in item["loc"]) or "(top level)"
            lines.append(f"  {key}: {'unknown key' if item['type'] == 'extra_forbidden' else item['msg']}")
        raise ConfigError("\n".join(lines), hint="fix the keys named above") from exc
    missing = [op.id for op in spec.operations if not (sqlfiles.sql_root() / op.sql_file).is_file()]
    if missing:
        raise ConfigError(
            f"access spec {source} names operations without probe SQL: {', '.join(missing)}",
            hint=f"add sql/{PROBE_FOLDER}/<id>.sql (or the file `probe` names) for each, or remove them",
        )
    return spec


def load_spec(path: str | Path | None = None) -> AccessSpec:
    """The spec at PATH, or the default: SPEC's access table."""
    file = Path(path) if path else DEFAULT_SPEC
    if not file.is_file():
        raise ConfigError(f"access spec {file} does not exist")
    return parse_spec(file.read_text(encoding="utf-8"), str(file))
