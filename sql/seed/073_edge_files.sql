-- The edge messages' files (072): small images in chat-attachments, but the 100 KB one, missing.
INSERT INTO seed_objects (source_table, source_n, ord, bucket, name, leaf, file_name, mimetype, kind, size,
                          present, form, owner, session_key, created_at, reference, metadata)
SELECT 'messages', %(messages)s::bigint + e.n, e.n, 'chat-attachments', e.name,
       regexp_replace(e.name, '^.*/', ''), 'edge-' || e.n || '.png', 'image/png', 'image',
       100 + pg_temp.seed_int(%(seed)s, 'edge-size', e.n, 1000), e.kind <> 'long_path', 'public_url',
       e.sender_id, e.booking_id, e.object_created_at,
       CASE WHEN e.kind = 'long_query' THEN e.public_url || '?x=' || repeat('q', 100000) ELSE e.public_url END,
       NULL::jsonb
FROM seed_edge_plan AS e
WHERE e.has_file
