"""The local stack behaves as Supabase's database does for the parts policies rely on."""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path

import psycopg
import pytest

from consolidation.core.errors import StackError
from consolidation.pytest_plugin import PG_BIN_ENV, LocalDatabase
from consolidation.stack import Stack


def _any_free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_user(conn: psycopg.Connection, role: str, claims: dict | None) -> None:
    """Act as PostgREST does: transaction-local role and claims."""
    conn.execute("SELECT set_config('role', %s, true)", [role])
    if claims is not None:
        conn.execute("SELECT set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])


def test_up_is_idempotent_and_reuses_the_running_server(local_stack: Stack) -> None:
    before = local_stack.status()
    after = local_stack.up()
    assert before.running and after.running
    assert (after.pid, after.port) == (before.pid, before.port)


def test_the_storage_service_role_can_run_the_storage_servers_migrations(local_stack: Stack) -> None:
    # The Storage API server connects with STORAGE_DATABASE_URL and its migrations replace the
    # schema's functions and alter its tables: as on Supabase, that role owns every one of them.
    url = local_stack.environment()["STORAGE_DATABASE_URL"]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("supabase_storage_admin",)
        functions = conn.execute(
            "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc AS p"
            " WHERE p.pronamespace = 'storage'::regnamespace"
        ).fetchall()
        assert "update_updated_at_column()" in {name for name, _ in functions}
        for _, definition in functions:  # rolled back below
            conn.execute(definition)
        conn.execute("ALTER TABLE storage.objects ADD COLUMN migration_check text")
        conn.execute("ALTER TABLE storage.buckets ADD COLUMN migration_check text")
        conn.rollback()


def test_contract_roles(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        roles = dict(
            conn.execute(
                "SELECT rolname, rolbypassrls FROM pg_roles WHERE rolname = ANY(%s)",
                [["anon", "authenticated", "service_role", "authenticator",
                  "supabase_admin", "supabase_storage_admin"]],
            ).fetchall()
        )
        assert set(roles) == {"anon", "authenticated", "service_role", "authenticator",
                              "supabase_admin", "supabase_storage_admin"}
        assert roles["service_role"] is True and roles["authenticated"] is False
        inherits, members = conn.execute(
            "SELECT r.rolinherit, array_agg(g.rolname ORDER BY g.rolname) FROM pg_roles r "
            "JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid "
            "WHERE r.rolname = 'authenticator' GROUP BY r.rolinherit"
        ).fetchone()
        assert inherits is False
        assert {"anon", "authenticated", "service_role"} <= set(members)


def test_public_default_privileges_grant_all_to_api_roles(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        conn.execute("CREATE TABLE public.fresh (id int)")
        for role in ("anon", "authenticated", "service_role"):
            assert conn.execute(
                "SELECT has_table_privilege(%s, 'public.fresh', 'SELECT,INSERT,UPDATE,DELETE')", [role]
            ).fetchone()[0], role


def test_auth_functions_read_claims_like_supabase(empty_db: LocalDatabase) -> None:
    user = str(uuid.uuid4())
    claims = {"sub": user, "role": "authenticated", "email": "a@example.test"}
    with empty_db.connect(autocommit=False) as conn:
        as_user(conn, "authenticated", claims)
        uid, role, email, jwt = conn.execute(
            "SELECT auth.uid(), auth.role(), auth.email(), auth.jwt()"
        ).fetchone()
        assert str(uid) == user and role == "authenticated" and email == "a@example.test"
        assert jwt == claims
        conn.rollback()
        # The legacy per-claim settings win over the JSON, as in Supabase's functions.
        legacy = str(uuid.uuid4())
        as_user(conn, "authenticated", claims)
        conn.execute("SELECT set_config('request.jwt.claim.sub', %s, true)", [legacy])
        assert str(conn.execute("SELECT auth.uid()").fetchone()[0]) == legacy
        conn.rollback()
        as_user(conn, "anon", {"role": "anon"})
        assert conn.execute("SELECT auth.uid()").fetchone()[0] is None
        conn.rollback()
        # Settings are transaction-local: nothing leaks into the next transaction.
        assert conn.execute("SELECT auth.uid(), current_user").fetchone() == (None, "postgres")


def test_service_role_sees_rows_rls_hides_from_authenticated(empty_db: LocalDatabase) -> None:
    with empty_db.connect(autocommit=False) as conn:
        conn.execute("CREATE TABLE public.notes (id int, owner uuid)")
        conn.execute("ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY")
        conn.execute(
            "CREATE POLICY own ON public.notes FOR SELECT TO authenticated "
            "USING (owner = (SELECT auth.uid()))"
        )
        conn.execute("INSERT INTO public.notes VALUES (1, gen_random_uuid()), (2, gen_random_uuid())")
        conn.commit()
        as_user(conn, "authenticated", {"sub": str(uuid.uuid4()), "role": "authenticated"})
        assert conn.execute("SELECT count(*) FROM public.notes").fetchone()[0] == 0
        conn.rollback()
        as_user(conn, "service_role", {"role": "service_role"})
        assert conn.execute("SELECT count(*) FROM public.notes").fetchone()[0] == 2
        conn.rollback()


def test_storage_path_helpers(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        folders, name, ext = conn.execute(
            "SELECT storage.foldername('a/b/c.png'), storage.filename('a/b/c.png'), "
            "storage.extension('a/b/c.png')"
        ).fetchone()
        assert (folders, name, ext) == (["a", "b"], "c.png", "png")
        conn.execute("INSERT INTO storage.buckets (id, name) VALUES ('b1', 'b1')")
        conn.execute("INSERT INTO storage.objects (bucket_id, name) VALUES ('b1', 'x/y/z.txt')")
        tokens = conn.execute("SELECT path_tokens FROM storage.objects").fetchone()[0]
        assert tokens == ["x", "y", "z.txt"]
        assert conn.execute(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'storage.objects'::regclass"
        ).fetchone()[0]


def test_bare_delete_on_storage_objects_is_blocked(empty_db: LocalDatabase) -> None:
    with empty_db.connect(autocommit=False) as conn:
        conn.execute("INSERT INTO storage.buckets (id, name) VALUES ('b1', 'b1')")
        conn.execute("INSERT INTO storage.objects (bucket_id, name) VALUES ('b1', 'f.txt')")
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="Direct deletion"):
            conn.execute("DELETE FROM storage.objects")
        conn.rollback()
        conn.execute("SELECT set_config('storage.allow_delete_query', 'true', true)")
        assert conn.execute("DELETE FROM storage.objects RETURNING name").fetchall() == [("f.txt",)]
        conn.rollback()


def test_an_apps_revokes_survive_a_restart_and_reset_restores_supabases_defaults(tmp_path: Path) -> None:
    """The contract is applied when the stack is created, never over an app's later changes."""
    stack = Stack(tmp_path / "stack")
    stack.up(port=_any_free_port(), pg_bin=os.environ.get(PG_BIN_ENV) or None)
    try:
        with psycopg.connect(stack.database_url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE public.ledger (id int)")
            conn.execute("REVOKE ALL ON public.ledger FROM anon, authenticated")
            conn.execute(
                "CREATE FUNCTION public.close_books() RETURNS void LANGUAGE sql SECURITY DEFINER "
                "SET search_path = '' AS 'SELECT'"
            )
            conn.execute("REVOKE EXECUTE ON FUNCTION public.close_books() FROM PUBLIC, anon, authenticated")
            conn.execute("ALTER ROLE authenticated SET statement_timeout = '1min'")

        def state() -> tuple[bool, bool, bool, str]:
            with psycopg.connect(stack.database_url()) as conn:
                return conn.execute(
                    "SELECT has_table_privilege('anon', 'public.ledger', 'SELECT'), "
                    "has_table_privilege('service_role', 'public.ledger', 'SELECT'), "
                    "has_function_privilege('authenticated', 'public.close_books()', 'EXECUTE'), "
                    "(SELECT c FROM pg_db_role_setting s, unnest(s.setconfig) c "
                    " WHERE s.setrole = 'authenticated'::regrole AND c LIKE 'statement_timeout=%')"
                ).fetchone()

        assert state() == (False, True, False, "statement_timeout=1min")
        # PostgREST's login works, and it can become only the API roles.
        with psycopg.connect(stack.database_url().replace("postgres:", "authenticator:", 1)) as api:
            api.execute("SET ROLE anon")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                api.execute("SET ROLE postgres")
        stack.up()
        assert state() == (False, True, False, "statement_timeout=1min")
        stack.down()
        assert stack.up().contract_current
        assert state() == (False, True, False, "statement_timeout=1min")

        # reset puts Supabase's roles and defaults back; the app's own objects keep their grants.
        assert stack.reset().contract_current
        assert state() == (False, True, False, "statement_timeout=8s")
    finally:
        stack.down()
    with pytest.raises(StackError, match="not running"):
        stack.reset()


def test_a_stack_made_before_postgres_was_demoted_is_refused_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "pgdata").mkdir()
    (tmp_path / "pgdata" / "PG_VERSION").write_text("18\n")
    (tmp_path / "stack.json").write_text(
        json.dumps({"port": 1, "pg_bin": "/nowhere", "password": "x", "server_user": None})
    )
    for command in (Stack(tmp_path).up, Stack(tmp_path).reset):
        with pytest.raises(StackError, match="no contract recorded") as refused:
            command()
        assert "make a new stack" in (refused.value.hint or "")


def test_storage_search_and_operation_helpers(empty_db: LocalDatabase) -> None:
    with empty_db.connect(autocommit=False) as conn:
        conn.execute("INSERT INTO storage.buckets (id, name) VALUES ('b1', 'b1')")
        conn.execute(
            "INSERT INTO storage.objects (bucket_id, name, owner) VALUES "
            "('b1', 'a/one.txt', NULL), ('b1', 'a/deeper/two.txt', NULL), ('b1', 'a/Three.txt', NULL), "
            "('b1', 'b/four.txt', NULL)"
        )
        listed = conn.execute("SELECT name, id IS NULL FROM storage.search('a/', 'b1')").fetchall()
        assert listed == [("deeper", True), ("one.txt", False), ("Three.txt", False)]
        assert conn.execute("SELECT name FROM storage.search('a/', 'b1', search => 'on')").fetchall() == [
            ("one.txt",)
        ]
        assert conn.execute("SELECT count(*) FROM storage.search('a/', 'b1', 1, 1, 1)").fetchone() == (1,)
        # The caller's policies decide what it lists (SECURITY INVOKER).
        conn.execute(
            "CREATE POLICY mine ON storage.objects FOR SELECT TO authenticated USING (name LIKE 'b/%')"
        )
        as_user(conn, "authenticated", {"sub": str(uuid.uuid4()), "role": "authenticated"})
        assert conn.execute("SELECT name FROM storage.search('', 'b1')").fetchall() == [("b",)]
        conn.execute("SELECT set_config('storage.operation', 'storage.object.upload', true)")
        assert conn.execute(
            "SELECT storage.operation(), storage.allow_only_operation('object.upload'), "
            "storage.allow_only_operation('storage.object.delete'), "
            "storage.allow_any_operation(ARRAY['object.delete', 'storage.object.upload'])"
        ).fetchone() == ("storage.object.upload", True, False, True)
        conn.rollback()
