-- The columns merge reads from `messages`, shaped for the classification (020); which rows is
-- decided by the WHERE clause that follows: 015 (keyset batches), 016 (sweeps) or 017 (captures).
SELECT 'messages'::text AS source_table,
       m.:"messages.id" AS source_id,
       m.:"messages.sender_id" AS sender_id,
       m.:"messages.booking_id" AS session_ref,
       m.:"messages.recipient_id" AS recipient_id,
       NULL::text AS context_type,
       m.:"messages.type"::text AS source_type,
       m.:"messages.content" AS content,
       m.:"messages.file_url" AS file_url,
       NULL::text AS file_name,
       NULL::bigint AS file_size,
       NULL::numeric AS duration_seconds,
       coalesce(m.:"messages.metadata", '{}'::jsonb) AS metadata,
       m.:"messages.created_at" AS created_at,
       hash_record_extended(m, 0)::text AS source_checksum
FROM :"messages" AS m
