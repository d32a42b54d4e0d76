-- chat_sessions: participants read their sessions, admins read all; only service_role
-- (which bypasses RLS) creates, changes or deletes sessions, so the API roles lose those
-- privileges outright and a denial says so instead of silently matching no row.
ALTER TABLE :"chat_sessions" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"chat_sessions" FROM anon;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON :"chat_sessions" FROM authenticated;
GRANT SELECT ON :"chat_sessions" TO authenticated;
GRANT ALL ON :"chat_sessions" TO service_role;

CREATE POLICY "chat_sessions: participants and admins read" ON :"chat_sessions"
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (
    :"chat_sessions.participants" @> ARRAY[(SELECT auth.uid())]
    OR (SELECT :"helper.is_chat_admin"())
  );
