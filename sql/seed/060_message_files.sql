-- The files messages carry (about 4%% of them), numbered in message order: which object, its
-- size, whether it exists, and the form the message refers to it in. Schedules on the file's
-- number put every reference form, missing object, odd name and zero-byte file in even a
-- small dataset; one in 20011 is larger than a megabyte.
CREATE TEMPORARY TABLE seed_objects AS
WITH numbered AS (
  SELECT p.*, row_number() OVER (ORDER BY p.n) AS ord,
         pg_temp.seed_int(%(seed)s, 'attach-voice', p.n, 5) = 0 AND NOT p.repeats_file_name AS is_voice
  FROM seed_message_plan AS p
  WHERE p.has_file
),
named AS (
  SELECT m.*,
         CASE WHEN m.is_voice THEN CASE WHEN mod(m.ord, 9) = 4 THEN 'voice_special' ELSE 'voice' END
              WHEN m.repeats_file_name THEN 'repeated'
              WHEN mod(m.ord, 9) = 4 THEN 'spaces'
              WHEN mod(m.ord, 9) = 6 THEN 'non_ascii'
              ELSE 'plain' END AS group_name,
         CASE WHEN m.is_voice THEN 'voice-notes' ELSE 'chat-attachments' END AS bucket,
         -- voice messages live in the private bucket: never a public URL, never a bare path
         CASE WHEN m.is_voice THEN (ARRAY['signed_url', 'signed_url', 'bucket_path', 'signed_url',
                                          'authenticated_url', 'signed_url', 'authenticated_url',
                                          'bucket_path', 'foreign_host', 'signed_url'])[1 + mod(m.ord, 10)]
              ELSE (ARRAY['public_url', 'public_url', 'public_url', 'bucket_path', 'bare_path',
                          'signed_url', 'authenticated_url', 'metadata', 'foreign_host', 'public_url'])[1 + mod(m.ord, 10)]
         END AS form,
         substr(md5(%(seed)s || ':upload:messages:' || m.n), 1, 12) AS upload_key
  FROM numbered AS m
),
filed AS (
  SELECT d.*, f.leaf, f.leaf_url, f.mimetype, f.kind,
         d.sender_id::text || '/' || d.upload_key || '/' || f.leaf AS name,
         d.sender_id::text || '/' || d.upload_key || '/' || f.leaf_url AS name_url,
         CASE WHEN mod(d.ord, 101) = 3 THEN 0
              WHEN mod(d.ord, 20011) = 11 THEN 1572864 + pg_temp.seed_int(%(seed)s, 'attach-size', d.n, 65536)
              ELSE 64 + pg_temp.seed_int(%(seed)s, 'attach-size', d.n, 4000) END AS size
  FROM named AS d
  JOIN seed_file_names AS f
    ON f.group_name = d.group_name
   AND f.pos = 1 + pg_temp.seed_int(%(seed)s, 'attach-name', d.n, f.group_size)
),
referenced AS (
  SELECT o.*,
         %(project_url)s || '/storage/v1/object/public/' || o.bucket || '/' || o.name_url AS public_url,
         CASE o.form
           WHEN 'public_url' THEN %(project_url)s || '/storage/v1/object/public/' || o.bucket || '/' || o.name_url
           WHEN 'authenticated_url' THEN %(project_url)s || '/storage/v1/object/authenticated/' || o.bucket || '/' || o.name_url
           WHEN 'signed_url' THEN %(project_url)s || '/storage/v1/object/sign/' || o.bucket || '/' || o.name_url
                                 || '?token=' || pg_temp.seed_signed_token(%(seed)s, o.bucket || '/' || o.name, o.created_at)
           WHEN 'bucket_path' THEN o.bucket || '/' || o.name
           WHEN 'bare_path' THEN o.name
           WHEN 'foreign_host' THEN %(foreign_url)s || '/storage/v1/object/public/' || o.bucket || '/' || o.name_url
         END AS reference
  FROM filed AS o
)
SELECT 'messages'::text AS source_table, r.n AS source_n, r.ord, r.bucket, r.name, r.leaf, r.leaf AS file_name,
       r.mimetype, r.kind, r.size::bigint AS size,
       r.form <> 'foreign_host' AND mod(r.ord, 23) <> 7 AS present,
       r.form, r.sender_id AS owner, r.session_key, r.created_at, r.reference,
       CASE WHEN r.form = 'metadata' THEN
              jsonb_build_object('attachments', jsonb_build_array(jsonb_build_object(
                'url', r.public_url, 'name', r.leaf, 'size', r.size, 'mimetype', r.mimetype)))
              || CASE WHEN r.kind = 'image' THEN jsonb_build_object('thumbnail_url',
                   %(project_url)s || '/storage/v1/render/image/public/' || r.bucket || '/' || r.name_url
                   || '?width=320&height=320') ELSE '{}'::jsonb END
            WHEN r.form = 'public_url' AND mod(r.ord, 3) = 0 THEN
              jsonb_build_object('file_name', r.leaf, 'file_size', r.size, 'preview_url', r.reference)
            ELSE jsonb_build_object('file_name', r.leaf, 'file_size', r.size)
       END AS metadata
FROM referenced AS r
