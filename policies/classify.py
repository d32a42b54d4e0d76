"""Classify what the database did with one probe, and judge it against the expected verdict."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED_PRIVILEGE = "denied by privilege"
    DENIED_WITH_CHECK = "denied by WITH CHECK"
    FILTERED = "filtered"
    BLOCKED_TRIGGER = "blocked by trigger"
    ERROR = "error"


class Verdict(StrEnum):
    PASS = "pass"
    LEAK = "leak"
    BREAK = "break"
    ERROR = "error"


DENIALS = frozenset(
    {Outcome.DENIED_PRIVILEGE, Outcome.DENIED_WITH_CHECK, Outcome.FILTERED, Outcome.BLOCKED_TRIGGER}
)
_PLPGSQL_FUNCTION = re.compile(r"PL/pgSQL function ([^\s(]+\([^)]*\))")


def from_rows(rows: int) -> Outcome:
    """A statement that succeeded: rows returned (or RETURNING) means allowed, none means filtered."""
    return Outcome.ALLOWED if rows > 0 else Outcome.FILTERED


def from_error(
    sqlstate: str | None, message: str, context: str | None, is_trigger_function: Callable[[str], bool]
) -> Outcome:
    """A statement that failed. A trigger's RAISE is recognised by its context naming a trigger
    function (some, like storage.protect_delete, raise 42501 too); RLS and privilege denials by
    their SQLSTATE and the server's own wording; everything else is an error, never a verdict."""
    functions = _PLPGSQL_FUNCTION.findall(context or "")
    if any(is_trigger_function(signature) for signature in functions):
        return Outcome.BLOCKED_TRIGGER
    if sqlstate == "42501":
        if message.startswith("new row violates row-level security policy"):
            return Outcome.DENIED_WITH_CHECK
        if message.startswith("permission denied"):
            return Outcome.DENIED_PRIVILEGE
    return Outcome.ERROR


def judge(expected_allowed: bool, outcome: Outcome) -> Verdict:
    if outcome is Outcome.ERROR:
        return Verdict.ERROR
    if expected_allowed:
        return Verdict.PASS if outcome is Outcome.ALLOWED else Verdict.BREAK
    return Verdict.LEAK if outcome is Outcome.ALLOWED else Verdict.PASS
