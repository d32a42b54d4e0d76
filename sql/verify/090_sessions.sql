-- Sessions merge created follow the session rule (a booking's id and its user and reader, the
-- pair's key for a direct one), and every session merge wrote into ends no earlier than the
-- newest message merge put in it.
WITH newest AS (
  -- The newest migrated message per session, in one pass (chat_messages need not be indexed
  -- by session).
  SELECT c.:"chat_messages.session_id" AS session_id, max(c.:"chat_messages.created_at") AS at
  FROM :"tool.provenance" AS p
  JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = p.chat_message_id
  WHERE p.fate = 'migrated'
  GROUP BY c.:"chat_messages.session_id"
),
judged AS (
  SELECT sc.session_id, s.:"chat_sessions.id" AS found, s.:"chat_sessions.last_message_at" AS last_message_at,
         newest.at AS newest_at,
         sc.action = 'created' AND s.:"chat_sessions.type" = 'booking'
           AND (b.:"bookings.id" IS NULL
                -- The booking's user and reader, NULLs aside, as a set (one when they are the same).
                OR NOT (s.:"chat_sessions.participants" @> array_remove(ARRAY[b.:"bookings.user_id", b.:"bookings.reader_id"], NULL)
                        AND array_remove(ARRAY[b.:"bookings.user_id", b.:"bookings.reader_id"], NULL) @> s.:"chat_sessions.participants"))
           AS booking_mismatch,
         sc.action = 'created' AND s.:"chat_sessions.type" = 'direct'
           AND s.:"chat_sessions.id" IS DISTINCT FROM :"tool.direct_session_id"(%(namespace)s::uuid,
                 s.:"chat_sessions.participants"[1],
                 -- A self-message's session has its one participant as both ends of the pair.
                 coalesce(s.:"chat_sessions.participants"[2], s.:"chat_sessions.participants"[1]))
           AS direct_mismatch
  FROM :"tool.session_changes" AS sc
  LEFT JOIN :"chat_sessions" AS s ON s.:"chat_sessions.id" = sc.session_id
  LEFT JOIN :"bookings" AS b ON b.:"bookings.id" = s.:"chat_sessions.booking_id"
  LEFT JOIN newest ON newest.session_id = sc.session_id
)
SELECT 'chat_sessions', j.session_id::text,
       CASE
         WHEN j.found IS NULL THEN 'session merge created is missing'
         WHEN j.booking_mismatch THEN 'booking session does not match its booking (id or participants)'
         WHEN j.direct_mismatch THEN 'direct session id is not its participant pair''s key'
         ELSE 'last_message_at ' || coalesce(j.last_message_at::text, 'NULL')
              || ' is before its newest message ' || j.newest_at::text
       END
FROM judged AS j
WHERE j.found IS NULL OR j.booking_mismatch OR j.direct_mismatch
   OR j.last_message_at < j.newest_at
   OR (j.last_message_at IS NULL AND j.newest_at IS NOT NULL)
ORDER BY 1, 2;
