"""Errors an operator can hit, each mapped to one of SPEC's exit codes in one place."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    UNREACHABLE = 3
    INTERNAL = 4


class ConsolidationError(Exception):
    """Base of every error the CLI turns into a message and an exit code."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  next: {self.hint}"


class ConfigError(ConsolidationError):
    """The configuration file is missing, malformed or names something invalid."""


class UsageError(ConsolidationError):
    """The command line asks for something that cannot be done as asked."""


class PhaseOrderError(ConsolidationError):
    """A phase was asked to run before the phase it depends on."""


class PhaseBusyError(ConsolidationError):
    """Another operator holds the phase's advisory lock."""


class DatabaseMismatch(ConsolidationError):
    """The database is not the one the configuration pins, or not the one its journal was written on."""


class DatabaseUnreachable(ConsolidationError):
    """The database could not be reached or went away mid-phase."""

    exit_code = ExitCode.UNREACHABLE


class StorageUnreachable(ConsolidationError):
    """The storage backend could not be reached."""

    exit_code = ExitCode.UNREACHABLE


class StackError(ConsolidationError):
    """The local stack could not be started, found or stopped."""

    exit_code = ExitCode.UNREACHABLE


class FindingsError(ConsolidationError):
    """The command ran and found discrepancies (failed verification, failed probe)."""

    exit_code = ExitCode.FINDINGS
