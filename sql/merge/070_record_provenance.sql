-- Migrated and linked rows: provenance, committed with the rows the batch wrote. In source id
-- order, the primary key's order (a batch is one contiguous key range of its source).
INSERT INTO :"tool.provenance" (source_table, source_id, chat_message_id, fate, batch, source_checksum)
SELECT b.source_table, b.source_id, b.chat_message_id, b.fate, %(batch)s, b.source_checksum
FROM merge_batch AS b
WHERE b.fate IN ('migrated', 'linked')
ORDER BY b.source_table, b.source_id;
