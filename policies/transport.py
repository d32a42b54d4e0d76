"""The probe transport interface: how an operation reaches the database as a persona.

One module per implementation: sql_transport (impersonation inside a rolled-back
transaction, as PostgREST and the Storage API do it), http_transport (the real Storage API,
called through supabase-py as each persona with a signed JWT). The matrix runner (probes.py)
only talks to this interface.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from policies.access_spec import AccessSpec, Operation
from policies.classify import Outcome


@dataclass(frozen=True)
class Actor:
    """A persona as a real user of the database: its API role and JWT identity."""

    persona: str
    role: str
    uid: str | None = None
    email: str | None = None
    app_metadata: dict[str, Any] = field(default_factory=dict)
    source: str = "none"  # picked from the database, created for the probe, or none (no user)

    def claims(self) -> dict[str, Any]:
        """The JWT claims PostgREST would put in request.jwt.claims for this actor."""
        if self.uid is None:
            return {"iss": "supabase", "role": self.role}
        return {
            "iss": "supabase",
            "aud": "authenticated",
            "role": self.role,
            "sub": self.uid,
            "email": self.email or "",
            "app_metadata": self.app_metadata,
            "user_metadata": {},
            "is_anonymous": False,
        }


@dataclass(frozen=True)
class Attempt:
    """What the database did with one operation: the outcome and its own evidence."""

    outcome: Outcome
    rows: int | None
    sqlstate: str | None
    message: str | None
    statement: str
    settings: str  # the statement that set the role, claims and request settings


class ProbeSession(Protocol):
    actors: dict[str, Actor]
    fixtures: dict[str, Any]
    setup_statements: list[str]
    # The state found that changes what the spec expects (access_spec.CUT_OVER: the legacy
    # tables are cut over).
    conditions: dict[str, bool]

    def skip_reason(self, operation: Operation) -> str | None:
        """Why OPERATION cannot be probed here (a condition not met), or None."""

    def attempt(self, actor: Actor, operation: Operation) -> Attempt: ...


class ProbeTransport(Protocol):
    name: str

    def session(self, spec: AccessSpec) -> AbstractContextManager[ProbeSession]:
        """Set up the personas and fixtures; everything is undone when the block ends."""


def iterate(spec: AccessSpec, personas: tuple[str, ...]) -> Iterator[tuple[Operation, str]]:
    """The matrix in report order: operation by operation, each persona in spec order."""
    for operation in spec.operations:
        for persona in personas:
            yield operation, persona
