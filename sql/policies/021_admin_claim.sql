-- Who is an admin, read from the JWT's app_metadata (set by the auth server, not the user):
-- no table read, so no SECURITY DEFINER; search_path pinned all the same.
CREATE SCHEMA IF NOT EXISTS :"helper";
REVOKE ALL ON SCHEMA :"helper" FROM PUBLIC;
GRANT USAGE ON SCHEMA :"helper" TO authenticated, service_role;

CREATE OR REPLACE FUNCTION :"helper.is_chat_admin"() RETURNS boolean
  LANGUAGE sql STABLE SET search_path = ''
AS $$
  SELECT coalesce((SELECT auth.jwt()) -> 'app_metadata' ->> 'role' = ANY (:'admin_roles'::text[]), false)
$$;
REVOKE ALL ON FUNCTION :"helper.is_chat_admin"() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION :"helper.is_chat_admin"() TO authenticated, service_role;
