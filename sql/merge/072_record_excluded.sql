-- Rows out of scope, with their reason.
INSERT INTO :"tool.excluded" (source_table, source_id, reason, detail, batch, source_checksum)
SELECT b.source_table, b.source_id, b.reason, b.detail, %(batch)s, b.source_checksum
FROM merge_batch AS b
WHERE b.fate = 'excluded';
