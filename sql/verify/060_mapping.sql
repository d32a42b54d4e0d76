-- Re-derive each migrated row's columns from its source, independently of merge's own
-- classification, and name every column that differs. The session is the referenced booking or
-- chat session id, or for a direct message the pair's key; the type is type_map's for the type
-- in any case; a missing created_at is the booking's when merge.missing_created_at says so.
WITH expected AS (
  SELECT p.source_table, p.source_id, p.chat_message_id,
         coalesce(m.:"messages.booking_id",
                  :"tool.direct_session_id"(%(namespace)s::uuid, m.:"messages.sender_id", m.:"messages.recipient_id"))
           AS session_id,
         m.:"messages.sender_id" AS sender_id,
         %(type_map)s::jsonb ->> lower(m.:"messages.type"::text) AS type,
         m.:"messages.content" AS content, m.:"messages.file_url" AS file_url,
         NULL::text AS file_name, NULL::bigint AS file_size, NULL::numeric AS duration_seconds,
         coalesce(m.:"messages.metadata", '{}'::jsonb) AS metadata,
         coalesce(m.:"messages.created_at",
                  CASE WHEN %(missing_created_at)s = 'booking_created_at' THEN
                    (SELECT b.:"bookings.created_at" FROM :"bookings" AS b WHERE b.:"bookings.id" = m.:"messages.booking_id")
                  END) AS created_at
  FROM :"tool.provenance" AS p
  JOIN :"messages" AS m ON m.:"messages.id" = p.source_id
  WHERE p.source_table = 'messages' AND p.fate = 'migrated'
  UNION ALL
  SELECT p.source_table, p.source_id, p.chat_message_id,
         v.:"voice_notes.context_id", v.:"voice_notes.user_id", %(voice_type)s::text, NULL::text,
         v.:"voice_notes.file_url", v.:"voice_notes.file_name", v.:"voice_notes.file_size"::bigint,
         v.:"voice_notes.duration_seconds"::numeric, '{}'::jsonb,
         coalesce(v.:"voice_notes.created_at",
                  CASE WHEN %(missing_created_at)s = 'booking_created_at' THEN
                    (SELECT b.:"bookings.created_at" FROM :"bookings" AS b WHERE b.:"bookings.id" = v.:"voice_notes.context_id")
                  END)
  FROM :"tool.provenance" AS p
  JOIN :"voice_notes" AS v ON v.:"voice_notes.id" = p.source_id
  WHERE p.source_table = 'voice_notes' AND p.fate = 'migrated'
)
SELECT e.source_table, e.source_id::text, 'chat message ' || c.:"chat_messages.id" || ' differs in ' || concat_ws(', ',
         CASE WHEN c.:"chat_messages.session_id" IS DISTINCT FROM e.session_id THEN 'session_id' END,
         CASE WHEN c.:"chat_messages.sender_id" IS DISTINCT FROM e.sender_id THEN 'sender_id' END,
         CASE WHEN c.:"chat_messages.type"::text IS DISTINCT FROM e.type THEN 'type' END,
         CASE WHEN c.:"chat_messages.content" IS DISTINCT FROM e.content THEN 'content' END,
         CASE WHEN c.:"chat_messages.file_url" IS DISTINCT FROM e.file_url THEN 'file_url' END,
         CASE WHEN c.:"chat_messages.file_name" IS DISTINCT FROM e.file_name THEN 'file_name' END,
         CASE WHEN c.:"chat_messages.file_size" IS DISTINCT FROM e.file_size THEN 'file_size' END,
         CASE WHEN c.:"chat_messages.duration_seconds" IS DISTINCT FROM e.duration_seconds THEN 'duration_seconds' END,
         CASE WHEN c.:"chat_messages.metadata" IS DISTINCT FROM e.metadata THEN 'metadata' END,
         CASE WHEN c.:"chat_messages.created_at" IS DISTINCT FROM e.created_at THEN 'created_at' END)
FROM expected AS e
JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = e.chat_message_id
WHERE (c.:"chat_messages.session_id", c.:"chat_messages.sender_id", c.:"chat_messages.type"::text,
       c.:"chat_messages.content", c.:"chat_messages.file_url", c.:"chat_messages.file_name",
       c.:"chat_messages.file_size"::bigint, c.:"chat_messages.duration_seconds"::numeric,
       c.:"chat_messages.metadata", c.:"chat_messages.created_at")
      IS DISTINCT FROM
      (e.session_id, e.sender_id, e.type, e.content, e.file_url, e.file_name, e.file_size,
       e.duration_seconds, e.metadata, e.created_at)
ORDER BY 1, 2;
