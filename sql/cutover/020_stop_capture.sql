-- Cut-over, step 2: stop forwarding. The SHARE lock waits for every write still in flight
-- (service_role's included), so each captured change is committed before capture goes; what
-- it logged is forwarded right after, and nothing written later is the legacy path's. The
-- way back stops too: with the legacy path closed no old app reads what would be written back
-- (a sync started after a cut-over rollback turns it on again).
LOCK TABLE :"messages", :"voice_notes" IN SHARE MODE;
DROP TRIGGER IF EXISTS consolidation_capture ON :"messages";
DROP TRIGGER IF EXISTS consolidation_capture ON :"voice_notes";
DROP TRIGGER IF EXISTS consolidation_write_back ON :"chat_messages";
