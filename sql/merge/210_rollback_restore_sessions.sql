-- Rollback: sessions merge only wrote into get their last_message_at back.
UPDATE :"chat_sessions" AS s
SET :"chat_sessions.last_message_at" = sc.prior_last_message_at
FROM :"tool.session_changes" AS sc
WHERE sc.action = 'updated' AND s.:"chat_sessions.id" = sc.session_id
  AND s.:"chat_sessions.last_message_at" IS DISTINCT FROM sc.prior_last_message_at;
