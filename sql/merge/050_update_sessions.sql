-- last_message_at follows the newest message; a direct session merge created starts at its
-- earliest message whichever batch carried it. Unchanged rows are not written.
WITH batch_span AS (
  SELECT b.session_id, min(b.created_at) AS first_at, max(b.created_at) AS last_at
  FROM merge_batch AS b
  WHERE b.fate = 'migrated'
  GROUP BY b.session_id
)
UPDATE :"chat_sessions" AS cs
SET :"chat_sessions.last_message_at" = greatest(cs.:"chat_sessions.last_message_at", bs.last_at),
    :"chat_sessions.created_at" = CASE
      WHEN sc.action = 'created' AND cs.:"chat_sessions.type" = 'direct'
        THEN least(cs.:"chat_sessions.created_at", bs.first_at)
      ELSE cs.:"chat_sessions.created_at" END
FROM batch_span AS bs
JOIN :"tool.session_changes" AS sc ON sc.session_id = bs.session_id
WHERE cs.:"chat_sessions.id" = bs.session_id
  AND (cs.:"chat_sessions.last_message_at" IS DISTINCT FROM greatest(cs.:"chat_sessions.last_message_at", bs.last_at)
       OR (sc.action = 'created' AND cs.:"chat_sessions.type" = 'direct'
           AND cs.:"chat_sessions.created_at" > bs.first_at));
