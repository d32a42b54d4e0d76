-- Messages written back into the legacy table (provenance batch -2): each legacy row still says
-- what its chat message says (the new app's edits follow it), and a deleted chat message's
-- legacy row is gone too. A change the new app made that waits to be written back is pending.
SELECT 'messages', p.source_id::text,
       CASE WHEN c.:"chat_messages.id" IS NULL THEN 'written back, but its chat message ' || p.chat_message_id || ' is gone'
            WHEN m.:"messages.id" IS NULL THEN 'written back from chat message ' || p.chat_message_id || ', but the legacy row is gone'
            ELSE 'written back from chat message ' || p.chat_message_id || ', but differs from it in ' || concat_ws(', ',
              CASE WHEN m.:"messages.sender_id" IS DISTINCT FROM c.:"chat_messages.sender_id" THEN 'sender_id' END,
              CASE WHEN m.:"messages.content" IS DISTINCT FROM c.:"chat_messages.content" THEN 'content' END,
              CASE WHEN m.:"messages.file_url" IS DISTINCT FROM c.:"chat_messages.file_url" THEN 'file_url' END,
              CASE WHEN m.:"messages.metadata" IS DISTINCT FROM c.:"chat_messages.metadata" THEN 'metadata' END,
              CASE WHEN m.:"messages.created_at" IS DISTINCT FROM c.:"chat_messages.created_at" THEN 'created_at' END)
       END
FROM :"tool.provenance" AS p
LEFT JOIN :"messages" AS m ON m.:"messages.id" = p.source_id
LEFT JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = p.chat_message_id
WHERE p.source_table = 'messages' AND p.batch = %(write_back_batch)s
  AND (c.:"chat_messages.id" IS NULL OR m.:"messages.id" IS NULL
       OR (m.:"messages.sender_id", m.:"messages.content", m.:"messages.file_url", m.:"messages.metadata",
           m.:"messages.created_at")
          IS DISTINCT FROM
          (c.:"chat_messages.sender_id", c.:"chat_messages.content", c.:"chat_messages.file_url",
           c.:"chat_messages.metadata", c.:"chat_messages.created_at"))
ORDER BY 1, 2;
