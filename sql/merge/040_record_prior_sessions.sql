-- Sessions merge writes into but did not create (the app's, or one created concurrently): keep
-- their prior last_message_at once, so rollback restores it. Sessions already recorded are
-- skipped by the anti-join (ON CONFLICT stays as the guard; alone it costs a speculative
-- insertion per session per batch).
INSERT INTO :"tool.session_changes" (session_id, action, prior_last_message_at, batch)
SELECT cs.:"chat_sessions.id", 'updated', cs.:"chat_sessions.last_message_at", %(batch)s
FROM :"chat_sessions" AS cs
WHERE cs.:"chat_sessions.id" IN (SELECT b.session_id FROM merge_batch AS b WHERE b.fate = 'migrated')
  AND NOT EXISTS (SELECT 1 FROM :"tool.session_changes" AS sc WHERE sc.session_id = cs.:"chat_sessions.id")
ON CONFLICT (session_id) DO NOTHING;
