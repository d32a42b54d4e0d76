-- Cut-over rollback: the deny-all marker goes; the privileges and row security the legacy
-- tables had before are put back from the journal's snapshot (statements that follow).
DROP POLICY IF EXISTS "legacy: cut over, service_role only" ON :"messages";
DROP POLICY IF EXISTS "legacy: cut over, service_role only" ON :"voice_notes";
