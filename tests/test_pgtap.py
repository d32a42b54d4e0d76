"""The pgTAP export under the real pgTAP and pg_prove: every cell passes on the access policy,
skipped cells are pgTAP skips with their reason, and the extensions schema it needs is created.

Runs where pg_prove and an installed PostgreSQL with the pgTAP extension are (Debian:
postgresql-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl), on a stack of that
PostgreSQL; skipped, saying so, elsewhere (the embedded PostgreSQL has no pgTAP).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import psycopg
import pytest
from conftest import consolidate

from consolidation.stack import Stack


def pgtap_bin() -> Path | None:
    """An installed PostgreSQL's bin folder whose share folder holds pgTAP."""
    chosen = os.environ.get("CONSOLIDATION_TEST_PG_BIN")
    for folder in [Path(chosen)] if chosen else sorted(Path("/usr/lib/postgresql").glob("*/bin")):
        pg_config = folder / "pg_config"
        if not pg_config.is_file():
            continue
        share = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True).stdout.strip()
        if (Path(share) / "extension" / "pgtap.control").is_file():
            return folder
    return None


PG_BIN = pgtap_bin()
pytestmark = pytest.mark.skipif(
    PG_BIN is None or shutil.which("pg_prove") is None,
    reason="pg_prove or a PostgreSQL with pgTAP is not installed (apt-get install postgresql-15 "
    "postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_export_passes_under_pg_prove(tmp_path: Path) -> None:
    stack = Stack(tmp_path / "stack")
    stack.up(port=free_port(), pg_bin=PG_BIN)
    try:
        env, url = stack.environment(), stack.database_url()
        seed = ("stack", "seed", "--dir", str(stack.directory), "--messages", "200")
        seeded = consolidate(None, *seed, env=env)
        assert seeded.returncode == 0, seeded.stderr
        assert consolidate(None, "policies", "--apply", "--force-order", env=env).returncode == 0
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT set_config('storage.allow_delete_query', 'true', false)")
            conn.execute("DELETE FROM storage.objects WHERE bucket_id = 'voice-notes'")
            conn.execute("DELETE FROM storage.buckets WHERE id = 'voice-notes'")  # its cells: skipped
            # The stack has Supabase's extensions schema; the export installs pgTAP into it.
            assert conn.execute("SELECT to_regnamespace('extensions')").fetchone() == ("extensions",)
        exported = tmp_path / "supabase" / "tests" / "access_test.sql"
        done = consolidate(None, "probe", "--out", str(tmp_path), "--export-pgtap", str(exported), env=env)
        assert done.returncode == 0, done.stderr

        info = psycopg.conninfo.conninfo_to_dict(url)
        connection = ["-h", "127.0.0.1", "-p", str(info["port"]), "-U", str(info["user"])]
        connection += ["-d", str(info["dbname"])]
        proved = subprocess.run(
            ["pg_prove", "--verbose", *connection, str(exported)],
            env={**os.environ, "PGPASSWORD": str(info["password"])},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proved.returncode == 0, proved.stdout + proved.stderr
        assert "Result: PASS" in proved.stdout
        skips = [line for line in proved.stdout.splitlines() if "# SKIP" in line]
        assert len(skips) == 5 * 5 and all("bucket voice-notes does not exist" in line for line in skips)
    finally:
        stack.down()
