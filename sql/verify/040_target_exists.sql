-- Migrated and linked rows whose chat message is gone. Whether a migrated row's columns still
-- match its source is 060's question, answered by re-deriving them from the source.
SELECT p.source_table, p.source_id::text,
       p.fate || ' to chat message ' || p.chat_message_id || ', which does not exist'
FROM :"tool.provenance" AS p
LEFT JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = p.chat_message_id
WHERE c.:"chat_messages.id" IS NULL
ORDER BY 1, 2;
