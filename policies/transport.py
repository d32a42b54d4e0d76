"""The probe transport interface: how an operation reaches the database as a persona.

One module per implementation: sql_transport (impersonation inside a rolled-back
transaction, as PostgREST and the Storage API do it), http_transport (the real Storage API,
called through supabase-py as each persona with a signed JWT). The matrix runner (probes.py)
only talks to this interface.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from consolidation.policies.access_spec import AccessSpec, Operation
from consolidation.policies.classify import Outcome

# Where Supabase Auth's tokens say they come from (a project's URL + /auth/v1; this is the
# one `supabase start` gives), and what the API keys say (their iss is "supabase").
USER_TOKEN_ISSUER = "http://127.0.0.1:54321/auth/v1"
KEY_ISSUER = "supabase"
TOKEN_LIFETIME_S = 3600


@dataclass(frozen=True)
class Actor:
    """A persona as a real user of the database: its API role and JWT identity."""

    persona: str
    role: str
    uid: str | None = None
    email: str | None = None
    app_metadata: dict[str, Any] = field(default_factory=dict)
    source: str = "none"  # picked from the database, created for the probe, or none (no user)

    def claims(self, issued_at: int, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The claims of the token this actor's requests carry, shaped as Supabase issues them:
        the anon or service_role API key for a persona without a user, else an access token
        from a password sign-in (aal1). OVERRIDES (the access spec's [claims.<persona>]) are
        laid over them, to probe MFA (aal2) or anonymous sign-ins (is_anonymous)."""
        expires = issued_at + TOKEN_LIFETIME_S
        if self.uid is None:
            claims: dict[str, Any] = {"iss": KEY_ISSUER, "role": self.role, "iat": issued_at, "exp": expires}
        else:
            claims = {
                "iss": USER_TOKEN_ISSUER,
                "sub": self.uid,
                "aud": "authenticated",
                "exp": expires,
                "iat": issued_at,
                "email": self.email or "",
                "phone": "",
                "app_metadata": self.app_metadata,
                "user_metadata": {},
                "role": self.role,
                "aal": "aal1",
                "amr": [{"method": "password", "timestamp": issued_at}],
                "session_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"probe-session:{self.uid}")),
                "is_anonymous": False,
            }
        return {**claims, **(overrides or {})}


def bearer_token(claims: dict[str, Any]) -> str:
    """A JWT carrying CLAIMS, the form the APIs put in request.jwt and the Authorization header.
    Unsigned (the database never checks a signature; the API did that before)."""
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.unsigned"


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
