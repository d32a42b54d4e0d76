-- Sessions merge created follow the session rule (a booking's id and pair, or the pair's key),
-- and every session merge wrote into ends no earlier than the newest message merge put in it.
WITH newest AS (
  -- The newest migrated message per session, in one pass (chat_messages need not be indexed
  -- by session).
  SELECT c.:"chat_messages.session_id" AS session_id, max(c.:"chat_messages.created_at") AS at
  FROM :"tool.provenance" AS p
  JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = p.chat_message_id
  WHERE p.fate = 'migrated'
  GROUP BY c.:"chat_messages.session_id"
)
SELECT 'chat_sessions', sc.session_id::text,
       CASE
         WHEN s.:"chat_sessions.id" IS NULL THEN 'session merge created is missing'
         WHEN sc.action = 'created' AND s.:"chat_sessions.type" = 'booking'
              AND (b.:"bookings.id" IS NULL OR NOT (s.:"chat_sessions.participants" @> ARRAY[b.:"bookings.user_id", b.:"bookings.reader_id"]))
           THEN 'booking session does not match its booking (id or participants)'
         WHEN sc.action = 'created' AND s.:"chat_sessions.type" = 'direct'
              AND s.:"chat_sessions.id" IS DISTINCT FROM :"tool.direct_session_id"(%(namespace)s::uuid,
                    s.:"chat_sessions.participants"[1], s.:"chat_sessions.participants"[2])
           THEN 'direct session id is not its participant pair''s key'
         ELSE 'last_message_at ' || coalesce(s.:"chat_sessions.last_message_at"::text, 'NULL')
              || ' is before its newest message ' || newest.at::text
       END
FROM :"tool.session_changes" AS sc
LEFT JOIN :"chat_sessions" AS s ON s.:"chat_sessions.id" = sc.session_id
LEFT JOIN :"bookings" AS b ON b.:"bookings.id" = s.:"chat_sessions.booking_id"
LEFT JOIN newest ON newest.session_id = sc.session_id
WHERE s.:"chat_sessions.id" IS NULL
   OR (sc.action = 'created' AND s.:"chat_sessions.type" = 'booking'
       AND (b.:"bookings.id" IS NULL OR NOT (s.:"chat_sessions.participants" @> ARRAY[b.:"bookings.user_id", b.:"bookings.reader_id"])))
   OR (sc.action = 'created' AND s.:"chat_sessions.type" = 'direct'
       AND s.:"chat_sessions.id" IS DISTINCT FROM :"tool.direct_session_id"(%(namespace)s::uuid,
             s.:"chat_sessions.participants"[1], s.:"chat_sessions.participants"[2]))
   OR s.:"chat_sessions.last_message_at" < newest.at
   OR (s.:"chat_sessions.last_message_at" IS NULL AND newest.at IS NOT NULL)
ORDER BY 1, 2;
