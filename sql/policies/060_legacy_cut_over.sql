-- After cut-over the legacy chat tables are service_role's only: the API roles lose every
-- privilege, and a restrictive deny-all policy both backs that up and marks the cut-over
-- (the probe checks the legacy tables only when this policy is present).
ALTER TABLE :"messages" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"messages" FROM anon, authenticated;
GRANT ALL ON :"messages" TO service_role;
CREATE POLICY "legacy: cut over, service_role only" ON :"messages"
  AS RESTRICTIVE FOR ALL TO anon, authenticated USING (false) WITH CHECK (false);

ALTER TABLE :"voice_notes" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"voice_notes" FROM anon, authenticated;
GRANT ALL ON :"voice_notes" TO service_role;
CREATE POLICY "legacy: cut over, service_role only" ON :"voice_notes"
  AS RESTRICTIVE FOR ALL TO anon, authenticated USING (false) WITH CHECK (false);
