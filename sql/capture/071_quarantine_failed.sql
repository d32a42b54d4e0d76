-- The forwarded row quarantined with the database's error (unless it is gone, or keeps its link),
-- its checksum taken through the storage rewrites as 064 takes it. Its snapshot is the whole row
-- unless taking that is what fails (then only its id).
INSERT INTO :"tool.quarantine" (source_table, source_id, reason, detail, batch, source_checksum, snapshot)
SELECT cb.source_table, cb.source_id, 'merge_error', %(detail)s, %(batch)s,
       CASE cb.source_table
         WHEN 'messages' THEN (SELECT hash_record_extended(jsonb_populate_record(m, jsonb_build_object(
             :'messages.file_url',
             :"tool.storage_original_text"('messages', m.:"messages.id", 'file_url', m.:"messages.file_url"))
           || CASE WHEN o.metadata IS DISTINCT FROM m.:"messages.metadata"
                   THEN jsonb_build_object(:'messages.metadata', o.metadata) ELSE '{}'::jsonb END), 0)::text
          FROM (SELECT :"tool.storage_original_json"('messages', m.:"messages.id", 'metadata',
                                                     m.:"messages.metadata") AS metadata) AS o)
         ELSE hash_record_extended(jsonb_populate_record(v, jsonb_build_object(
           :'voice_notes.file_url',
           :"tool.storage_original_text"('voice_notes', v.:"voice_notes.id", 'file_url',
                                         v.:"voice_notes.file_url")
         )), 0)::text
       END,
       CASE WHEN NOT %(snapshot)s THEN jsonb_build_object('id', cb.source_id)
            ELSE coalesce(to_jsonb(m), to_jsonb(v)) END
FROM capture_batch AS cb
LEFT JOIN :"messages" AS m ON cb.source_table = 'messages' AND m.:"messages.id" = cb.source_id
LEFT JOIN :"voice_notes" AS v ON cb.source_table = 'voice_notes' AND v.:"voice_notes.id" = cb.source_id
WHERE (m.:"messages.id" IS NOT NULL OR v.:"voice_notes.id" IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                  WHERE p.source_table = cb.source_table AND p.source_id = cb.source_id AND p.fate = 'linked');
