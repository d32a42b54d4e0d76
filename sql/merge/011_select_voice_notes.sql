-- The columns merge reads from `voice_notes` (a voice note has no text and no metadata of its
-- own); which rows is decided by the WHERE clause that follows: 015, 016 or 017.
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
       hash_record_extended(v, 0)::text AS source_checksum
FROM :"voice_notes" AS v
