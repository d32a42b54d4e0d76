-- The batch's migrated rows, one set-based insert. Ids are derived from the source row, so a
-- collision with an existing row fails the batch loudly instead of being skipped. In id order:
-- the ids are hashes, and sorted, consecutive ones land on the same or the next index page.
INSERT INTO :"chat_messages" (:"chat_messages.id", :"chat_messages.session_id", :"chat_messages.sender_id",
                              :"chat_messages.type", :"chat_messages.content", :"chat_messages.file_url",
                              :"chat_messages.file_name", :"chat_messages.file_size",
                              :"chat_messages.duration_seconds", :"chat_messages.metadata",
                              :"chat_messages.created_at")
SELECT b.chat_message_id, b.session_id, b.sender_id, b.type, b.content, b.file_url, b.file_name,
       b.file_size, b.duration_seconds, b.metadata, b.created_at
FROM merge_batch AS b
WHERE b.fate = 'migrated'
ORDER BY b.chat_message_id;
