-- The sessions to sequence: every session merge wrote into, all at once, so chat_messages is
-- scanned once for the whole run rather than once per slice of sessions.
CREATE TEMP TABLE sequence_sessions ON COMMIT DROP AS
SELECT sc.session_id
FROM :"tool.session_changes" AS sc;
ANALYZE sequence_sessions;
