-- Sessions whose order changed (or that are new) get their sequence rewritten; unchanged ones
-- are not written, so a re-run over an unchanged session writes nothing.
INSERT INTO :"tool.session_sequence" AS ss (session_id, message_ids, sequenced_at)
SELECT r.session_id, r.message_ids, clock_timestamp()
FROM session_rollup AS r
ORDER BY r.session_id
ON CONFLICT (session_id) DO UPDATE
SET message_ids = excluded.message_ids, sequenced_at = excluded.sequenced_at
WHERE ss.message_ids IS DISTINCT FROM excluded.message_ids;
