-- The staged objects, as an upload would have left them (never used since, so accessed = created).
INSERT INTO storage.objects
  (id, bucket_id, name, owner, owner_id, metadata, version, created_at, updated_at, last_accessed_at)
SELECT id, bucket_id, name, owner, owner::text, metadata, version, created_at, created_at, created_at
FROM pg_temp.local_store_bulk
