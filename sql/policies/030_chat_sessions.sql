-- chat_sessions: participants read their sessions, admins read all; only service_role
-- (which bypasses RLS) creates, changes or deletes sessions, so the API roles lose those
-- privileges outright and a denial says so instead of silently matching no row.
ALTER TABLE :"chat_sessions" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"chat_sessions" FROM anon;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON :"chat_sessions" FROM authenticated;
GRANT SELECT ON :"chat_sessions" TO authenticated;
GRANT ALL ON :"chat_sessions" TO service_role;

-- The caller's sessions, for the other tables' policies: SECURITY DEFINER so the lookup uses the
-- GIN index on participants directly (under chat_sessions' own RLS the planner may not use it,
-- as @> is not leakproof), evaluated once per statement as a hashed sub-select.
CREATE OR REPLACE FUNCTION :"helper.my_chat_sessions"() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT s.:"chat_sessions.id" FROM :"chat_sessions" AS s
  WHERE s.:"chat_sessions.participants" @> ARRAY[(SELECT auth.uid())]
$$;
REVOKE ALL ON FUNCTION :"helper.my_chat_sessions"() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION :"helper.my_chat_sessions"() TO authenticated, service_role;

CREATE POLICY "chat_sessions: participants and admins read" ON :"chat_sessions"
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (
    :"chat_sessions.participants" @> ARRAY[(SELECT auth.uid())]
    OR (SELECT :"helper.is_chat_admin"())
  );
