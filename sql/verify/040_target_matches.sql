-- Migrated rows whose chat message is gone, or whose mapped columns no longer hash to what merge
-- wrote; linked rows whose chat message is gone. File references are compared as they were
-- before the storage phase rewrote them (its journal holds both values).
SELECT p.source_table, p.source_id::text,
       CASE WHEN c.:"chat_messages.id" IS NULL THEN p.fate || ' to chat message ' || p.chat_message_id || ', which does not exist'
            ELSE 'chat message ' || p.chat_message_id || ' differs from its source (mapped checksum)' END
FROM :"tool.provenance" AS p
LEFT JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = p.chat_message_id
WHERE c.:"chat_messages.id" IS NULL
   OR (p.fate = 'migrated'
       AND md5(ROW(c.:"chat_messages.session_id", c.:"chat_messages.sender_id", c.:"chat_messages.type"::text,
                   c.:"chat_messages.content",
                   :"tool.storage_original_text"('chat_messages', c.:"chat_messages.id", 'file_url',
                                                 c.:"chat_messages.file_url"),
                   c.:"chat_messages.file_name",
                   c.:"chat_messages.file_size"::bigint, c.:"chat_messages.duration_seconds"::numeric,
                   :"tool.storage_original_json"('chat_messages', c.:"chat_messages.id", 'metadata',
                                                 c.:"chat_messages.metadata"),
                   c.:"chat_messages.created_at")::text) <> p.mapped_checksum)
ORDER BY 1, 2;
