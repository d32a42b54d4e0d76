-- A forwarded row's source checksum is taken as verify takes it (050): with the values it had
-- before the storage phase rewrote its file references, so only changes the app made count.
UPDATE merge_batch AS b
SET source_checksum = CASE b.source_table
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
FROM merge_batch AS k
LEFT JOIN :"messages" AS m ON k.source_table = 'messages' AND m.:"messages.id" = k.source_id
LEFT JOIN :"voice_notes" AS v ON k.source_table = 'voice_notes' AND v.:"voice_notes.id" = k.source_id
WHERE b.source_table = k.source_table AND b.source_id = k.source_id;
