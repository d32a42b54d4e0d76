-- Sessions merge writes into but did not create (the app's, or one created concurrently): keep
-- their prior last_message_at once, in the transaction that first changes it, so rollback
-- restores it.
INSERT INTO :"tool.session_changes" (session_id, action, prior_last_message_at, batch)
SELECT cs.:"chat_sessions.id", 'updated', cs.:"chat_sessions.last_message_at", %(batch)s
FROM :"chat_sessions" AS cs
JOIN session_rollup AS r ON r.session_id = cs.:"chat_sessions.id"
WHERE r.last_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM :"tool.session_changes" AS sc WHERE sc.session_id = cs.:"chat_sessions.id")
ON CONFLICT (session_id) DO NOTHING;
