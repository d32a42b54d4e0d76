-- Forwarded rows linked to a dual-written chat message keep the link; their recorded source
-- checksum follows the row's current state (taken through the storage rewrites, as 064).
UPDATE :"tool.provenance" AS p
SET source_checksum = CASE cb.source_table
      WHEN 'messages' THEN (SELECT hash_record_extended(jsonb_populate_record(m, jsonb_build_object(
          :'messages.file_url',
          :"tool.storage_original_text"('messages', m.:"messages.id", 'file_url', m.:"messages.file_url"))
        -- metadata only when a rewrite was seen through: populating a JSON null would make it NULL.
        || CASE WHEN o.metadata IS DISTINCT FROM m.:"messages.metadata"
                THEN jsonb_build_object(:'messages.metadata', o.metadata) ELSE '{}'::jsonb END), 0)::text
       FROM (SELECT :"tool.storage_original_json"('messages', m.:"messages.id", 'metadata',
                                                  m.:"messages.metadata") AS metadata) AS o)
      ELSE hash_record_extended(jsonb_populate_record(v, jsonb_build_object(
        :'voice_notes.file_url',
        :"tool.storage_original_text"('voice_notes', v.:"voice_notes.id", 'file_url',
                                      v.:"voice_notes.file_url")
      )), 0)::text
    END
FROM capture_batch AS cb
LEFT JOIN :"messages" AS m ON cb.source_table = 'messages' AND m.:"messages.id" = cb.source_id
LEFT JOIN :"voice_notes" AS v ON cb.source_table = 'voice_notes' AND v.:"voice_notes.id" = cb.source_id
WHERE p.source_table = cb.source_table AND p.source_id = cb.source_id AND p.fate = 'linked'
  AND (m.:"messages.id" IS NOT NULL OR v.:"voice_notes.id" IS NOT NULL);
