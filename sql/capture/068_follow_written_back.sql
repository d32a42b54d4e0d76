-- The old app edits a message sync wrote back for it (provenance linked, the write-back's batch
-- -2): the chat message takes the edit, so both apps show its latest content. The forwarding's
-- writes are the tool's, so this is not written back again.
UPDATE :"chat_messages" AS c
SET :"chat_messages.content" = m.:"messages.content",
    :"chat_messages.file_url" = m.:"messages.file_url",
    :"chat_messages.metadata" = m.:"messages.metadata"
FROM capture_batch AS cb
JOIN :"tool.provenance" AS p
  ON p.source_table = cb.source_table AND p.source_id = cb.source_id AND p.fate = 'linked' AND p.batch = -2
JOIN :"messages" AS m ON m.:"messages.id" = p.source_id
WHERE cb.source_table = 'messages' AND c.:"chat_messages.id" = p.chat_message_id
  AND (c.:"chat_messages.content", c.:"chat_messages.file_url", c.:"chat_messages.metadata")
      IS DISTINCT FROM (m.:"messages.content", m.:"messages.file_url", m.:"messages.metadata");
