-- Rows merge cannot migrate, with their reason and a snapshot of the source row.
INSERT INTO :"tool.quarantine" (source_table, source_id, reason, detail, batch, source_checksum, snapshot)
SELECT b.source_table, b.source_id, b.reason, b.detail, %(batch)s, b.source_checksum,
       CASE b.source_table
         WHEN 'messages' THEN (SELECT to_jsonb(m) FROM :"messages" AS m WHERE m.:"messages.id" = b.source_id)
         ELSE (SELECT to_jsonb(v) FROM :"voice_notes" AS v WHERE v.:"voice_notes.id" = b.source_id)
       END
FROM merge_batch AS b
WHERE b.fate = 'quarantined';
