"""The lint's vocabulary: severities, rules and the findings they report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

from consolidation.core.errors import UsageError

if TYPE_CHECKING:
    from consolidation.policies.lint.catalog import Catalog


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise UsageError(f"unknown severity {text!r}", hint="choose info, warning or error") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    object: str
    message: str
    detail: str


@dataclass(frozen=True)
class Rule:
    """One check: SEVERITY is the most it reports (reachability may lower a finding), HELP the
    one-line fix, CHECK what judges the catalog."""

    id: str
    severity: Severity
    title: str
    help: str
    check: Callable[[Catalog], Iterable[tuple[Severity, str, str, str]]] = field(repr=False)

    def findings(self, catalog: Catalog) -> list[Finding]:
        return [
            Finding(self.id, min(level, self.severity).label, obj, message, detail)
            for level, obj, message, detail in self.check(catalog)
        ]
