"""The stack's contract, read from its catalog, matches what Supabase's own migrations give a project
(tests/fixtures/fidelity/supabase.toml), on the default PostgreSQL and on 15; and it behaves so."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from consolidation import fidelity
from consolidation.pytest_plugin import LocalDatabase

EXPECTATION = fidelity.Expectation.load(Path(__file__).parent / "fixtures" / "fidelity" / "supabase.toml")


def test_catalog_matches_supabase(empty_db_each_pg: LocalDatabase) -> None:
    with empty_db_each_pg.connect() as conn:
        result = fidelity.check(conn, EXPECTATION)
    assert result.mismatches == {}
    assert result.stale_differences == ()
    if result.server_major == 15:
        # Debian's build ships every extension Supabase preinstalls.
        assert result.unavailable_extensions == ()


def test_drift_on_either_side_is_seen(empty_db: LocalDatabase) -> None:
    """A change to the stack, or an expectation the stack does not meet, is reported."""
    with empty_db.connect() as conn:
        conn.execute("GRANT SELECT ON auth.users TO service_role")
        conn.execute("CREATE POLICY p ON storage.objects FOR SELECT USING (true)")
        facts = fidelity.read_catalog(conn, EXPECTATION)
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    result = fidelity.compare(EXPECTATION, facts, major)
    assert set(result.mismatches) == {"table auth.users acl"}
    assert "service_role=r" in result.mismatches["table auth.users acl"]

    stricter = replace(
        EXPECTATION,
        objects={**EXPECTATION.objects, "function storage.search_v2(text)": {"owner": "x"}},
        differences={**EXPECTATION.differences, "role anon config": "not so"},
    )
    result = fidelity.compare(stricter, facts, major)
    assert result.mismatches["function storage.search_v2(text)"] == "missing"
    assert result.stale_differences == ("role anon config",)
    del facts["function storage.operation()"]
    facts["function storage.extra()"] = {}
    result = fidelity.compare(EXPECTATION, facts, major)
    assert result.mismatches["function storage.operation()"] == "missing"
    assert "not on Supabase" in result.mismatches["function storage.extra()"]


def test_postgres_is_demoted_as_on_supabase(empty_db_each_pg: LocalDatabase) -> None:
    """What a Supabase project's migrations may and may not do as postgres."""
    refused = [
        "ALTER TABLE storage.objects ADD COLUMN note text",
        "ALTER TABLE storage.objects DISABLE ROW LEVEL SECURITY",
        "CREATE INDEX ON storage.objects (owner)",
        "CREATE FUNCTION auth.is_admin() RETURNS boolean LANGUAGE sql AS 'SELECT false'",
        "CREATE FUNCTION storage.mine() RETURNS boolean LANGUAGE sql AS 'SELECT false'",
        "DROP TRIGGER protect_objects_delete ON storage.objects",
        "CREATE TRIGGER probe BEFORE INSERT ON realtime.messages FOR EACH ROW EXECUTE FUNCTION touch()",
        "ALTER ROLE anon SUPERUSER",
        "CREATE EXTENSION file_fdw WITH SCHEMA extensions",
    ]
    allowed = [
        "CREATE POLICY own ON storage.objects FOR SELECT TO authenticated USING (owner = auth.uid())",
        "ALTER POLICY own ON storage.objects USING (owner_id = auth.uid()::text)",
        "DROP POLICY own ON storage.objects",
        "CREATE POLICY topic ON realtime.messages FOR SELECT TO authenticated USING (realtime.topic() = 'x')",
        "CREATE TRIGGER on_signup AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE TABLE public.notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text)",
        "ALTER PUBLICATION supabase_realtime ADD TABLE public.notes",
        "GRANT SELECT ON storage.objects TO authenticator",
    ]
    with empty_db_each_pg.connect() as conn:
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert superuser == (False,)
        conn.execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'")
        for statement in allowed:
            conn.execute(statement)
        for statement in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # The owner's grants stay: postgres's REVOKE takes back only what postgres granted.
        conn.execute("REVOKE ALL ON storage.objects FROM anon")
        kept = conn.execute("SELECT has_table_privilege('anon', 'storage.objects', 'SELECT')").fetchone()
        assert kept == (True,)
        conn.execute("SET ROLE service_role")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM auth.users")
