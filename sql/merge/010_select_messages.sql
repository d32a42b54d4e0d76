-- The next batch of `messages` in primary-key order after the high-water mark. In a sweep pass
-- (after the keyset pass reached the end) only rows without a fate yet: rows written behind the
-- mark while the merge ran.
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
       md5(m::text) AS source_checksum
FROM :"messages" AS m
WHERE m.:"messages.id" >= %(low)s AND (m.:"messages.id" > %(low)s OR %(inclusive)s)
  AND (NOT %(sweep)s OR (
    NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                WHERE p.source_table = 'messages' AND p.source_id = m.:"messages.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.quarantine" AS q
                    WHERE q.source_table = 'messages' AND q.source_id = m.:"messages.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.excluded" AS e
                    WHERE e.source_table = 'messages' AND e.source_id = m.:"messages.id")))
ORDER BY m.:"messages.id"
LIMIT %(batch_size)s
