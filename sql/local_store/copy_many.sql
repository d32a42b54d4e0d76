-- Server-side copies made together: each a new row (new id and version) with its source's owner
-- and metadata, as copy.sql makes one.
INSERT INTO storage.objects
  (id, bucket_id, name, owner, owner_id, metadata, user_metadata, version,
   created_at, updated_at, last_accessed_at)
SELECT c.id, c.to_bucket, c.to_name, o.owner, o.owner_id, o.metadata, o.user_metadata, c.version,
       %(at)s, %(at)s, %(at)s
FROM unnest(%(ids)s::uuid[], %(buckets)s::text[], %(names)s::text[], %(to_buckets)s::text[],
            %(to_names)s::text[], %(versions)s::text[])
       AS c (id, bucket, name, to_bucket, to_name, version)
JOIN storage.objects AS o ON o.bucket_id = c.bucket AND o.name = c.name
