-- The edge messages (072), with the odd metadata or URL each is there for.
INSERT INTO public.messages (id, booking_id, sender_id, recipient_id, type, content, file_url,
                             metadata, created_at)
SELECT e.id, e.booking_id, e.sender_id, NULL, CASE WHEN e.has_file THEN 'image' ELSE 'text' END,
       'edge case: ' || e.kind,
       CASE e.kind WHEN 'long_path' THEN e.public_url
                   WHEN 'long_query' THEN e.public_url || '?x=' || repeat('q', 100000) END,
       CASE e.kind
         WHEN 'json_string' THEN to_jsonb(e.public_url)
         WHEN 'json_number' THEN '42'::jsonb
         WHEN 'json_boolean' THEN 'true'::jsonb
         WHEN 'json_null' THEN 'null'::jsonb
         WHEN 'json_array' THEN jsonb_build_array('caption', e.public_url)
         -- 500 objects and 500 arrays in turn: {"d": [{"d": [ ... "<url>" ... ]}]}
         WHEN 'json_deep' THEN (repeat('{"d": [', 500) || to_jsonb(e.public_url)::text || repeat(']}', 500))::jsonb
         ELSE '{}'::jsonb
       END,
       e.created_at
FROM seed_edge_plan AS e
ORDER BY e.n
