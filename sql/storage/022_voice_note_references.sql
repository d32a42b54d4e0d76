-- Legacy voice notes and the folder of the chat message each became (none outside the chat).
SELECT 'voice_notes' AS table_name, v.:"voice_notes.id" AS row_id,
       c.:"chat_messages.session_id" AS session_id, c.:"chat_messages.sender_id" AS sender_id,
       v.:"voice_notes.file_url" AS file_url, NULL::jsonb AS metadata,
       'voice_notes' AS context, NULL::uuid AS copy_of
FROM :"voice_notes" AS v
LEFT JOIN :"tool.provenance" AS p ON p.source_table = 'voice_notes' AND p.source_id = v.:"voice_notes.id"
LEFT JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = p.chat_message_id
WHERE v.:"voice_notes.file_url" IS NOT NULL
