-- The logged chat messages that go back, as they are now: the new app's own (no legacy row's
-- fate but a write-back's) in a session with a legacy home — a booking's session (the booking
-- exists), or a direct session of the pair's derived id (the sender and the other participant,
-- the recipient) — each with the legacy row it becomes (its id is the chat message's). A
-- legacy row of that id that is not a write-back is the old app's and is never overwritten.
CREATE TEMP TABLE write_back_rows ON COMMIT DROP AS
SELECT c.:"chat_messages.id" AS chat_message_id, home.booking_id, c.:"chat_messages.sender_id" AS sender_id,
       home.recipient_id,
       coalesce(%(legacy_types)s::jsonb ->> c.:"chat_messages.type"::text, c.:"chat_messages.type"::text) AS type,
       c.:"chat_messages.content" AS content, c.:"chat_messages.file_url" AS file_url,
       c.:"chat_messages.metadata" AS metadata, c.:"chat_messages.created_at" AS created_at
FROM write_back_batch AS wb
JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = wb.chat_message_id
JOIN :"chat_sessions" AS s ON s.:"chat_sessions.id" = c.:"chat_messages.session_id"
CROSS JOIN LATERAL (
  SELECT b.:"bookings.id" AS booking_id, NULL::uuid AS recipient_id
  FROM :"bookings" AS b
  WHERE s.:"chat_sessions.type" = 'booking'
    AND b.:"bookings.id" = coalesce(s.:"chat_sessions.booking_id", s.:"chat_sessions.id")
  UNION ALL
  SELECT NULL::uuid, pair.other
  FROM (SELECT coalesce((SELECT p FROM unnest(s.:"chat_sessions.participants") AS p
                         WHERE p IS DISTINCT FROM c.:"chat_messages.sender_id" LIMIT 1),
                        c.:"chat_messages.sender_id") AS other) AS pair
  WHERE s.:"chat_sessions.type" = 'direct'
    AND s.:"chat_sessions.participants" @> ARRAY[c.:"chat_messages.sender_id"]
    AND s.:"chat_sessions.id" = :"tool.direct_session_id"(%(namespace)s::uuid, c.:"chat_messages.sender_id", pair.other)
) AS home
WHERE NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                  WHERE p.chat_message_id = c.:"chat_messages.id" AND p.batch <> %(write_back_batch)s)
  AND NOT EXISTS (SELECT 1 FROM :"messages" AS m
                  WHERE m.:"messages.id" = c.:"chat_messages.id"
                    AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                                    WHERE p.source_table = 'messages' AND p.source_id = m.:"messages.id"
                                      AND p.batch = %(write_back_batch)s));
