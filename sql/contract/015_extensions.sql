-- The extensions schema Supabase's init script creates (as postgres, so postgres owns it), on
-- the API roles' reach and postgres's search_path, with uuid-ossp and pgcrypto in it. An
-- extension this PostgreSQL build does not ship is left out (README: what still differs).
-- pgtap is created here too where it is installed: on Supabase postgres may create it
-- (supautils' privileged extensions), here only a superuser can, so `CREATE EXTENSION IF NOT
-- EXISTS pgtap WITH SCHEMA extensions` in a test file finds it already there.
CREATE SCHEMA IF NOT EXISTS extensions AUTHORIZATION postgres;
ALTER SCHEMA extensions OWNER TO postgres;
GRANT USAGE ON SCHEMA extensions TO postgres, anon, authenticated, service_role;
DO $$
DECLARE
  wanted text;
BEGIN
  FOREACH wanted IN ARRAY ARRAY['uuid-ossp', 'pgcrypto', 'pgtap'] LOOP
    IF EXISTS (SELECT FROM pg_available_extensions WHERE name = wanted)
       AND NOT EXISTS (SELECT FROM pg_extension WHERE extname = wanted) THEN
      EXECUTE format('CREATE EXTENSION %I WITH SCHEMA extensions', wanted);
    END IF;
  END LOOP;
END
$$;
