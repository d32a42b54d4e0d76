-- One recording per voice note, as the legacy app uploaded it: voice-notes/<user>/<ms>-<key>.<ext>,
-- but every 13th from #5 kept its file name (spaces, non-ASCII) as <user>/<key>/<name>. Every
-- 97th from #41 is empty (zero bytes), every 31st from #9 is missing from the store.
-- References take six forms, including signed URLs.
INSERT INTO seed_objects (source_table, source_n, ord, bucket, name, leaf, file_name, mimetype, kind, size,
                          present, form, owner, session_key, created_at, reference, metadata)
WITH filed AS (
  SELECT p.*, f.leaf AS file_name, f.mimetype, f.kind, k.folder,
         CASE WHEN f.group_name = 'voice_special' THEN f.leaf
              ELSE (extract(epoch FROM p.created_at) * 1000)::bigint || '-' || k.key
                   || substring(f.leaf FROM '\.[^.]+$') END AS leaf,
         CASE WHEN f.group_name = 'voice_special' THEN f.leaf_url
              ELSE (extract(epoch FROM p.created_at) * 1000)::bigint || '-' || k.key
                   || substring(f.leaf FROM '\.[^.]+$') END AS leaf_url,
         (ARRAY['signed_url', 'signed_url', 'bucket_path', 'bare_path', 'authenticated_url',
                'public_url'])[1 + mod(p.v, 6)] AS form,
         CASE WHEN mod(p.v, 97) = 41 THEN 0
              ELSE 200 + pg_temp.seed_int(%(seed)s, 'voice-size', p.v, 3000) END AS size
  FROM seed_voice_plan AS p
  JOIN seed_file_names AS f
    ON f.group_name = CASE WHEN mod(p.v, 13) = 5 THEN 'voice_special' ELSE 'voice' END
   AND f.pos = 1 + pg_temp.seed_int(%(seed)s, 'voice-name', p.v, f.group_size)
  CROSS JOIN LATERAL (
    SELECT substr(md5(%(seed)s || ':upload:voice_notes:' || p.v), 1, 12) AS key,
           p.user_id::text || CASE WHEN f.group_name = 'voice_special'
                                   THEN '/' || substr(md5(%(seed)s || ':upload:voice_notes:' || p.v), 1, 12)
                                   ELSE '' END AS folder
  ) AS k
)
SELECT 'voice_notes', o.v, o.v, 'voice-notes', o.folder || '/' || o.leaf, o.leaf, o.file_name, o.mimetype, o.kind,
       o.size, mod(o.v, 31) <> 9, o.form, o.user_id, o.session_key, o.created_at,
       CASE o.form
         WHEN 'public_url' THEN %(project_url)s || '/storage/v1/object/public/voice-notes/' || o.folder || '/' || o.leaf_url
         WHEN 'authenticated_url' THEN %(project_url)s || '/storage/v1/object/authenticated/voice-notes/' || o.folder || '/' || o.leaf_url
         WHEN 'signed_url' THEN %(project_url)s || '/storage/v1/object/sign/voice-notes/' || o.folder || '/' || o.leaf_url
                               || '?token=' || pg_temp.seed_signed_token(%(seed)s, 'voice-notes/' || o.folder || '/' || o.leaf, o.created_at)
         WHEN 'bucket_path' THEN 'voice-notes/' || o.folder || '/' || o.leaf
         WHEN 'bare_path' THEN o.folder || '/' || o.leaf
       END,
       NULL::jsonb
FROM filed AS o
