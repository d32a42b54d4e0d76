-- Source rows changed or deleted since merge recorded their fate (their checksum then and now).
-- The storage phase's own reference rewrites are seen through: a row is hashed with the values
-- it had before them, so only changes made by someone else count.
WITH fates AS (
  SELECT source_table, source_id, source_checksum FROM :"tool.provenance"
  UNION ALL SELECT source_table, source_id, source_checksum FROM :"tool.quarantine"
  UNION ALL SELECT source_table, source_id, source_checksum FROM :"tool.excluded"
)
SELECT f.source_table, f.source_id::text,
       CASE WHEN m.:"messages.id" IS NULL AND v.:"voice_notes.id" IS NULL THEN 'source row was deleted after merge'
            ELSE 'source row changed after merge (checksum differs)' END
FROM fates AS f
LEFT JOIN :"messages" AS m ON f.source_table = 'messages' AND m.:"messages.id" = f.source_id
LEFT JOIN :"voice_notes" AS v ON f.source_table = 'voice_notes' AND v.:"voice_notes.id" = f.source_id
WHERE CASE
        -- A row the storage phase never rewrote is hashed as it is (most rows: no lookups).
        WHEN NOT EXISTS (SELECT 1 FROM :"tool.storage_rewrites" AS r
                         WHERE r.table_name = f.source_table AND r.row_id = f.source_id
                           AND r.state = 'rewritten')
          THEN CASE f.source_table WHEN 'messages' THEN hash_record_extended(m, 0)::text
                                   ELSE hash_record_extended(v, 0)::text END
        WHEN f.source_table = 'messages' THEN (SELECT hash_record_extended(jsonb_populate_record(m, jsonb_build_object(
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
      IS DISTINCT FROM f.source_checksum
ORDER BY 1, 2;
