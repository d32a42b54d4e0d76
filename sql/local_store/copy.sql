-- A server-side copy: a new row (new id and version) with the source's owner and metadata.
INSERT INTO storage.objects
  (id, bucket_id, name, owner, owner_id, metadata, user_metadata, version,
   created_at, updated_at, last_accessed_at)
SELECT %(id)s, %(to_bucket)s, %(to_name)s, owner, owner_id, metadata, user_metadata, %(version)s,
       %(at)s, %(at)s, %(at)s
FROM storage.objects
WHERE bucket_id = %(bucket)s AND name = %(name)s
