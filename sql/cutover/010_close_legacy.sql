-- Cut-over, step 1: the legacy chat tables become service_role's only. The API roles lose every
-- privilege, and a restrictive deny-all policy backs that up and marks the cut-over (the probe
-- checks the legacy tables only when it is present). Taking these locks waits for the app's
-- in-flight writes, whose captured changes therefore commit before this does.
ALTER TABLE :"messages" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"messages" FROM anon, authenticated;
GRANT ALL ON :"messages" TO service_role;
DROP POLICY IF EXISTS "legacy: cut over, service_role only" ON :"messages";
CREATE POLICY "legacy: cut over, service_role only" ON :"messages"
  AS RESTRICTIVE FOR ALL TO anon, authenticated USING (false) WITH CHECK (false);
ALTER TABLE :"voice_notes" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"voice_notes" FROM anon, authenticated;
GRANT ALL ON :"voice_notes" TO service_role;
DROP POLICY IF EXISTS "legacy: cut over, service_role only" ON :"voice_notes";
CREATE POLICY "legacy: cut over, service_role only" ON :"voice_notes"
  AS RESTRICTIVE FOR ALL TO anon, authenticated USING (false) WITH CHECK (false);
