-- last_message_at follows the session's newest message; a direct session merge created starts
-- at its earliest message. Once per run, after every batch: a session spread over many batches
-- is written once, not once per batch. Unchanged rows are not written.
UPDATE :"chat_sessions" AS cs
SET :"chat_sessions.last_message_at" = greatest(cs.:"chat_sessions.last_message_at", r.last_at),
    :"chat_sessions.created_at" = CASE
      WHEN sc.action = 'created' AND cs.:"chat_sessions.type" = 'direct'
        THEN least(cs.:"chat_sessions.created_at", r.first_at)
      ELSE cs.:"chat_sessions.created_at" END
FROM session_rollup AS r
JOIN :"tool.session_changes" AS sc ON sc.session_id = r.session_id
WHERE cs.:"chat_sessions.id" = r.session_id AND r.last_at IS NOT NULL
  AND (cs.:"chat_sessions.last_message_at" IS DISTINCT FROM greatest(cs.:"chat_sessions.last_message_at", r.last_at)
       OR (sc.action = 'created' AND cs.:"chat_sessions.type" = 'direct'
           AND cs.:"chat_sessions.created_at" > r.first_at));
