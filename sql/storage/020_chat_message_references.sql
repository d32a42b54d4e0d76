-- Chat messages that may hold a file reference, with the folder their files belong in and,
-- for merged rows, the legacy table and row they came from (the table names a bare path's
-- bucket; the row pairs a reference with its legacy original in reports). Only JSON holding a
-- '/' can hold a reference (a URL or a bucket/path); 025 walks it.
SELECT 'chat_messages' AS table_name, c.:"chat_messages.id" AS row_id,
       c.:"chat_messages.session_id" AS session_id, c.:"chat_messages.sender_id" AS sender_id,
       c.:"chat_messages.file_url" AS file_url,
       CASE WHEN strpos(c.:"chat_messages.metadata"::text, '/') > 0 THEN c.:"chat_messages.metadata" END
         AS metadata,
       p.source_table AS context, p.source_id AS copy_of
FROM :"chat_messages" AS c
LEFT JOIN :"tool.provenance" AS p ON p.chat_message_id = c.:"chat_messages.id"
WHERE c.:"chat_messages.file_url" IS NOT NULL
   OR strpos(c.:"chat_messages.metadata"::text, '/') > 0
