-- Forwarded rows that are migrated: a new chat message, or the one merge wrote for the row
-- before (same derived id) brought up to its latest content. Unchanged rows are not written.
INSERT INTO :"chat_messages" AS c (:"chat_messages.id", :"chat_messages.session_id", :"chat_messages.sender_id",
                                   :"chat_messages.type", :"chat_messages.content", :"chat_messages.file_url",
                                   :"chat_messages.file_name", :"chat_messages.file_size",
                                   :"chat_messages.duration_seconds", :"chat_messages.metadata",
                                   :"chat_messages.created_at")
SELECT b.chat_message_id, b.session_id, b.sender_id, b.type, b.content, b.file_url, b.file_name,
       b.file_size, b.duration_seconds, b.metadata, b.created_at
FROM merge_batch AS b
WHERE b.fate = 'migrated'
ORDER BY b.chat_message_id
ON CONFLICT (:"chat_messages.id") DO UPDATE
SET :"chat_messages.session_id" = excluded.:"chat_messages.session_id",
    :"chat_messages.sender_id" = excluded.:"chat_messages.sender_id",
    :"chat_messages.type" = excluded.:"chat_messages.type",
    :"chat_messages.content" = excluded.:"chat_messages.content",
    :"chat_messages.file_url" = excluded.:"chat_messages.file_url",
    :"chat_messages.file_name" = excluded.:"chat_messages.file_name",
    :"chat_messages.file_size" = excluded.:"chat_messages.file_size",
    :"chat_messages.duration_seconds" = excluded.:"chat_messages.duration_seconds",
    :"chat_messages.metadata" = excluded.:"chat_messages.metadata",
    :"chat_messages.created_at" = excluded.:"chat_messages.created_at"
WHERE (c.:"chat_messages.session_id", c.:"chat_messages.sender_id", c.:"chat_messages.type",
       c.:"chat_messages.content", c.:"chat_messages.file_url", c.:"chat_messages.file_name",
       c.:"chat_messages.file_size", c.:"chat_messages.duration_seconds", c.:"chat_messages.metadata",
       c.:"chat_messages.created_at")
      IS DISTINCT FROM
      (excluded.:"chat_messages.session_id", excluded.:"chat_messages.sender_id", excluded.:"chat_messages.type",
       excluded.:"chat_messages.content", excluded.:"chat_messages.file_url", excluded.:"chat_messages.file_name",
       excluded.:"chat_messages.file_size", excluded.:"chat_messages.duration_seconds",
       excluded.:"chat_messages.metadata", excluded.:"chat_messages.created_at");
