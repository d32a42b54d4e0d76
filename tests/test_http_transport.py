"""The HTTP probe transport: the files operations through the real Storage API, as each persona,
give the verdicts the SQL transport gives.

Runs only against a real Storage API server, named by CONSOLIDATION_STORAGE_URL (the project URL),
CONSOLIDATION_SERVICE_KEY and STORAGE_JWT_SECRET (the secret it verifies users' tokens with),
reading the database at DATABASE_URL (see ../shared/storage-server/); a fake server would prove
nothing about the real API. The probe's world is committed there while it runs, then removed.
"""

from __future__ import annotations

import os

import psycopg
import pytest
from consolidation.policies.access_spec import load_spec
from consolidation.policies.http_transport import HttpTransport
from consolidation.policies.probes import run_matrix
from consolidation.policies.sql_transport import SqlTransport

from consolidation.core.config import Config

NEEDED = ("CONSOLIDATION_STORAGE_URL", "CONSOLIDATION_SERVICE_KEY", "STORAGE_JWT_SECRET", "DATABASE_URL")
pytestmark = pytest.mark.skipif(
    not all(os.environ.get(name) for name in NEEDED),
    reason="set " + ", ".join(NEEDED) + " to probe through a real Storage API server",
)

LEFTOVERS = """
SELECT (SELECT count(*) FROM auth.users WHERE email LIKE 'probe-%%@example.invalid'),
       (SELECT count(*) FROM storage.objects WHERE name LIKE %s)
"""


def test_both_transports_give_the_same_verdicts() -> None:
    url, spec, config = os.environ["DATABASE_URL"], load_spec(), Config()
    http = run_matrix(
        HttpTransport(
            url,
            config,
            storage_url=os.environ["CONSOLIDATION_STORAGE_URL"],
            service_key=os.environ["CONSOLIDATION_SERVICE_KEY"],
            jwt_secret=os.environ["STORAGE_JWT_SECRET"],
        ),
        spec,
    )
    sql = run_matrix(SqlTransport(url, config, mode="create"), spec)

    files = [op.id for op in spec.operations if op.api.kind == "storage"]
    probed = [o for o in http.observations if o.verdict != "skipped"]
    # Every files cell went through the API (none skipped for want of a bucket), nothing else did.
    assert sorted({o.operation for o in probed}) == sorted(files)
    assert len(probed) == len(files) * len(spec.personas)
    disagreements = [
        (o.persona, o.operation, o.outcome, o.message, sql.cell(o.operation, o.persona))
        for o in probed
        if sql.cell(o.operation, o.persona).verdict != o.verdict
    ]
    assert disagreements == []
    # The world the API saw is gone again: no probe user, no probe file.
    with psycopg.connect(url) as conn:
        assert conn.execute(LEFTOVERS, ["%probe-%"]).fetchone() == (0, 0)
