-- The next batch of `voice_notes` in primary-key order after the high-water mark (in a sweep
-- pass: only rows without a fate yet). A voice note has no text and no metadata of its own.
SELECT 'voice_notes'::text AS source_table,
       v.:"voice_notes.id" AS source_id,
       v.:"voice_notes.user_id" AS sender_id,
       v.:"voice_notes.context_id" AS session_ref,
       NULL::uuid AS recipient_id,
       v.:"voice_notes.context_type"::text AS context_type,
       NULL::text AS source_type,
       NULL::text AS content,
       v.:"voice_notes.file_url" AS file_url,
       v.:"voice_notes.file_name" AS file_name,
       v.:"voice_notes.file_size"::bigint AS file_size,
       v.:"voice_notes.duration_seconds"::numeric AS duration_seconds,
       '{}'::jsonb AS metadata,
       v.:"voice_notes.created_at" AS created_at,
       md5(v::text) AS source_checksum
FROM :"voice_notes" AS v
WHERE v.:"voice_notes.id" >= %(low)s AND (v.:"voice_notes.id" > %(low)s OR %(inclusive)s)
  AND (NOT %(sweep)s OR (
    NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                WHERE p.source_table = 'voice_notes' AND p.source_id = v.:"voice_notes.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.quarantine" AS q
                    WHERE q.source_table = 'voice_notes' AND q.source_id = v.:"voice_notes.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.excluded" AS e
                    WHERE e.source_table = 'voice_notes' AND e.source_id = v.:"voice_notes.id")))
ORDER BY v.:"voice_notes.id"
LIMIT %(batch_size)s
