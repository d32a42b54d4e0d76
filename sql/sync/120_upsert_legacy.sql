-- Written back into the legacy table the old app reads: a new message, or the one written back
-- before brought up to its latest content. Unchanged rows are not written.
INSERT INTO :"messages" AS m (:"messages.id", :"messages.booking_id", :"messages.sender_id",
                              :"messages.recipient_id", :"messages.type", :"messages.content",
                              :"messages.file_url", :"messages.metadata", :"messages.created_at")
SELECT r.chat_message_id, r.booking_id, r.sender_id, r.recipient_id, r.type, r.content, r.file_url,
       r.metadata, r.created_at
FROM write_back_rows AS r
ORDER BY r.chat_message_id
ON CONFLICT (:"messages.id") DO UPDATE
SET :"messages.booking_id" = excluded.:"messages.booking_id",
    :"messages.sender_id" = excluded.:"messages.sender_id",
    :"messages.recipient_id" = excluded.:"messages.recipient_id",
    :"messages.type" = excluded.:"messages.type",
    :"messages.content" = excluded.:"messages.content",
    :"messages.file_url" = excluded.:"messages.file_url",
    :"messages.metadata" = excluded.:"messages.metadata",
    :"messages.created_at" = excluded.:"messages.created_at"
WHERE (m.:"messages.booking_id", m.:"messages.sender_id", m.:"messages.recipient_id", m.:"messages.type",
       m.:"messages.content", m.:"messages.file_url", m.:"messages.metadata", m.:"messages.created_at")
      IS DISTINCT FROM
      (excluded.:"messages.booking_id", excluded.:"messages.sender_id", excluded.:"messages.recipient_id",
       excluded.:"messages.type", excluded.:"messages.content", excluded.:"messages.file_url",
       excluded.:"messages.metadata", excluded.:"messages.created_at");
