-- Supabase's database roles as supabase/postgres's init scripts and migrations leave them
-- (tests/fixtures/fidelity/supabase.toml names the files). Run by the stack's superuser,
-- supabase_admin, once when the stack is created and again by `stack reset`: roles are
-- cluster-wide, so each is created only if missing, then given Supabase's attributes.
DO $$
DECLARE
  name text;
BEGIN
  FOREACH name IN ARRAY ARRAY['postgres', 'anon', 'authenticated', 'service_role', 'authenticator',
                              'supabase_auth_admin', 'supabase_storage_admin', 'supabase_realtime_admin']
  LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
      EXECUTE format('CREATE ROLE %I', name);
    END IF;
  END LOOP;
END
$$;

ALTER ROLE supabase_admin SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS LOGIN;
-- Demoted, as on every Supabase project: what it may still do comes from the grants below.
ALTER ROLE postgres NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS;
-- INHERIT since 2023 (20230529180330_alter_api_roles_for_inherit).
ALTER ROLE anon NOLOGIN INHERIT NOBYPASSRLS NOCREATEROLE NOCREATEDB;
ALTER ROLE authenticated NOLOGIN INHERIT NOBYPASSRLS NOCREATEROLE NOCREATEDB;
ALTER ROLE service_role NOLOGIN INHERIT BYPASSRLS NOCREATEROLE NOCREATEDB;
ALTER ROLE authenticator LOGIN NOINHERIT NOBYPASSRLS;
ALTER ROLE supabase_auth_admin LOGIN NOINHERIT NOCREATEROLE NOREPLICATION;
ALTER ROLE supabase_storage_admin LOGIN NOINHERIT CREATEROLE NOREPLICATION;
ALTER ROLE supabase_realtime_admin NOLOGIN NOINHERIT NOREPLICATION;

-- PostgREST and the Storage API log in as authenticator and switch to one of the API roles.
GRANT anon, authenticated, service_role TO authenticator;
GRANT authenticator TO supabase_storage_admin;
GRANT pg_monitor, pg_read_all_data, pg_signal_backend TO postgres;
-- From PostgreSQL 16 a role needs ADMIN on another to alter or grant it; Supabase gives
-- postgres that on the API roles (20250605172253_grant_with_admin_to_postgres_16_and_above).
-- The admin roles stand in for supautils.policy_grants, which lets postgres create, alter and
-- drop policies (only) on auth, storage and realtime tables it does not own: membership gives
-- it the owner's rights, and the guard in 060_guard.sql refuses everything but policies (and
-- what its own grants allow) as the owner would. From 16 it cannot SET ROLE to them, as on
-- Supabase; 15 has no such grant option (README: what still differs).
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 160000 THEN
    -- As text: PostgreSQL 15 cannot parse these options.
    EXECUTE 'GRANT anon, authenticated, service_role TO postgres WITH ADMIN OPTION';
    EXECUTE 'GRANT supabase_auth_admin, supabase_storage_admin, supabase_realtime_admin '
            'TO postgres WITH INHERIT TRUE, SET FALSE';
  ELSE
    GRANT anon, authenticated, service_role TO postgres;
    GRANT supabase_auth_admin, supabase_storage_admin, supabase_realtime_admin TO postgres;
  END IF;
END
$$;

ALTER ROLE anon SET statement_timeout = '3s';
ALTER ROLE authenticated SET statement_timeout = '8s';
ALTER ROLE authenticator SET statement_timeout = '8s';
ALTER ROLE authenticator SET lock_timeout = '8s';
ALTER ROLE postgres SET search_path = "$user", public, extensions;
ALTER ROLE supabase_admin SET search_path = "$user", public, auth, extensions;
ALTER ROLE supabase_auth_admin SET search_path = auth;
ALTER ROLE supabase_auth_admin SET idle_in_transaction_session_timeout = 60000;
ALTER ROLE supabase_storage_admin SET search_path = storage;

-- The database the stack's URL names belongs to postgres, as on Supabase.
DO $$
BEGIN
  IF current_database() = 'postgres' THEN
    ALTER DATABASE postgres OWNER TO postgres;
  END IF;
END
$$;
