-- Plan: every source row, shaped as merge's batches shape them (010/011), for a read-only
-- classification of the whole merge in one pass.
SELECT 'messages'::text AS source_table, m.:"messages.id" AS source_id, m.:"messages.sender_id" AS sender_id,
       m.:"messages.booking_id" AS session_ref, m.:"messages.recipient_id" AS recipient_id,
       NULL::text AS context_type, m.:"messages.type"::text AS source_type, m.:"messages.content" AS content,
       m.:"messages.file_url" AS file_url, NULL::text AS file_name, NULL::bigint AS file_size,
       NULL::numeric AS duration_seconds, coalesce(m.:"messages.metadata", '{}'::jsonb) AS metadata,
       m.:"messages.created_at" AS created_at, hash_record_extended(m, 0)::text AS source_checksum
FROM :"messages" AS m
UNION ALL
SELECT 'voice_notes'::text, v.:"voice_notes.id", v.:"voice_notes.user_id", v.:"voice_notes.context_id",
       NULL::uuid, v.:"voice_notes.context_type"::text, NULL::text, NULL::text, v.:"voice_notes.file_url",
       v.:"voice_notes.file_name", v.:"voice_notes.file_size"::bigint, v.:"voice_notes.duration_seconds"::numeric,
       '{}'::jsonb, v.:"voice_notes.created_at", hash_record_extended(v, 0)::text
FROM :"voice_notes" AS v
