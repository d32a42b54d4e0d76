"""The consolidation's phases: one module each, every one offering plan / apply / verify / rollback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One statement a phase runs, as the operator previews it and as it is executed."""

    phase: str
    name: str
    sql: str

    @property
    def file_name(self) -> str:
        return f"{self.phase}__{self.name}.sql"
