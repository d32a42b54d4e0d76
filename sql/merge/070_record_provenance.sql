-- Migrated and linked rows: provenance, committed with the rows the batch wrote. In chat message
-- id order for the same reason as 060 (the batch's source ids are one contiguous key range anyway).
INSERT INTO :"tool.provenance" (source_table, source_id, chat_message_id, fate, batch, source_checksum, mapped_checksum)
SELECT b.source_table, b.source_id, b.chat_message_id, b.fate, %(batch)s, b.source_checksum, b.mapped_checksum
FROM merge_batch AS b
WHERE b.fate IN ('migrated', 'linked')
ORDER BY b.chat_message_id;
