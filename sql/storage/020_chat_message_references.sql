-- Chat messages that may hold a file reference, with the folder their files belong in and,
-- for merged rows, the legacy table they came from (it names a bare path's bucket).
SELECT 'chat_messages' AS table_name, c.:"chat_messages.id" AS row_id,
       c.:"chat_messages.session_id" AS session_id, c.:"chat_messages.sender_id" AS sender_id,
       c.:"chat_messages.file_url" AS file_url, c.:"chat_messages.metadata" AS metadata,
       p.source_table AS context
FROM :"chat_messages" AS c
LEFT JOIN :"tool.provenance" AS p ON p.chat_message_id = c.:"chat_messages.id"
WHERE c.:"chat_messages.file_url" IS NOT NULL
   OR coalesce(c.:"chat_messages.metadata", '{}'::jsonb) <> '{}'::jsonb
ORDER BY c.:"chat_messages.id"
