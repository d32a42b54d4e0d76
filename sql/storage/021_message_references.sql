-- Legacy messages that may hold a file reference, with the folder of the chat message they
-- became (none when merge quarantined or excluded them: their files then stay where they are).
-- Only JSON holding a '/' can hold a reference; 025 walks it.
SELECT 'messages' AS table_name, m.:"messages.id" AS row_id,
       c.:"chat_messages.session_id" AS session_id, c.:"chat_messages.sender_id" AS sender_id,
       m.:"messages.file_url" AS file_url,
       CASE WHEN strpos(m.:"messages.metadata"::text, '/') > 0 THEN m.:"messages.metadata" END AS metadata,
       'messages' AS context, NULL::uuid AS copy_of
FROM :"messages" AS m
LEFT JOIN :"tool.provenance" AS p ON p.source_table = 'messages' AND p.source_id = m.:"messages.id"
LEFT JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = p.chat_message_id
WHERE m.:"messages.file_url" IS NOT NULL
   OR strpos(m.:"messages.metadata"::text, '/') > 0
