-- Who is an admin, decided once per statement by a function the Data API does not expose:
-- SECURITY DEFINER so it can read profiles whatever their policies say, search_path pinned
-- so no caller's schema can shadow what it calls, callable by signed-in users only.
CREATE SCHEMA IF NOT EXISTS :"helper";
REVOKE ALL ON SCHEMA :"helper" FROM PUBLIC;
GRANT USAGE ON SCHEMA :"helper" TO authenticated, service_role;

CREATE OR REPLACE FUNCTION :"helper.is_chat_admin"() RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT EXISTS (
    SELECT 1 FROM :"profiles" AS p
    WHERE p.:"profiles.id" = (SELECT auth.uid())
      AND p.:"profiles.role" = ANY (:'admin_roles'::text[])
  )
$$;
REVOKE ALL ON FUNCTION :"helper.is_chat_admin"() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION :"helper.is_chat_admin"() TO authenticated, service_role;
