-- A server-side move: the same row (id, version, metadata) under its new bucket and name.
UPDATE storage.objects
SET bucket_id = %(to_bucket)s, name = %(to_name)s, updated_at = %(at)s
WHERE bucket_id = %(bucket)s AND name = %(name)s
