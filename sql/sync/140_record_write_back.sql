-- Provenance that marks a legacy row as written back (fate linked, the write-back's batch): it
-- is the chat message's, so forwarding keeps the link and never makes it a message of its own.
-- Its checksum is the legacy row as written, so verify sees the old app's later edits.
INSERT INTO :"tool.provenance" AS p (source_table, source_id, chat_message_id, fate, batch, source_checksum)
SELECT 'messages', m.:"messages.id", r.chat_message_id, 'linked', %(write_back_batch)s,
       hash_record_extended(m, 0)::text
FROM write_back_rows AS r
JOIN :"messages" AS m ON m.:"messages.id" = r.chat_message_id
ORDER BY m.:"messages.id"
ON CONFLICT (source_table, source_id) DO UPDATE
SET source_checksum = excluded.source_checksum
WHERE p.batch = %(write_back_batch)s AND p.source_checksum IS DISTINCT FROM excluded.source_checksum;
