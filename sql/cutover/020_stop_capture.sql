-- Cut-over, step 2: stop forwarding. The SHARE lock waits for every write still in flight
-- (service_role's included), so each captured change is committed before capture goes; what
-- it logged is forwarded right after, and nothing written later is the legacy path's. The
-- way back's log stays on: what the new app writes from now on is carried back into the legacy
-- table by a cut-over rollback before it re-opens the legacy path.
LOCK TABLE :"messages", :"voice_notes" IN SHARE MODE;
DROP TRIGGER IF EXISTS consolidation_capture ON :"messages";
DROP TRIGGER IF EXISTS consolidation_capture ON :"voice_notes";
