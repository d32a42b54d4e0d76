-- The newer app's uploads, already where the consolidation puts files: chat-files/<session>/<sender>/<name>.
INSERT INTO seed_objects (source_table, source_n, ord, bucket, name, leaf, file_name, mimetype, kind, size,
                          present, form, owner, session_key, created_at, reference, metadata)
SELECT 'chat_messages', a.n, a.n, 'chat-files', o.name, f.leaf, f.leaf, f.mimetype, f.kind,
       64 + pg_temp.seed_int(%(seed)s, 'app-size', a.n, 4000), true, 'bucket_path', a.sender_id,
       a.session_id, a.created_at, 'chat-files/' || o.name, NULL::jsonb
FROM seed_app_plan AS a
JOIN seed_file_names AS f
  ON f.group_name = 'plain' AND f.pos = 1 + pg_temp.seed_int(%(seed)s, 'app-name', a.n, f.group_size)
CROSS JOIN LATERAL (SELECT a.session_id::text || '/' || a.sender_id::text || '/' || f.leaf AS name) AS o
WHERE a.pos = 4
