-- An upload with upsert: a new object, or a new version of the existing row (its id stays).
INSERT INTO storage.objects AS o
  (id, bucket_id, name, owner, owner_id, metadata, version, created_at, updated_at, last_accessed_at)
VALUES (%(id)s, %(bucket)s, %(name)s, %(owner)s, %(owner_id)s, %(metadata)s, %(version)s,
        %(at)s, %(at)s, %(at)s)
ON CONFLICT (bucket_id, name) DO UPDATE
SET owner = excluded.owner,
    owner_id = excluded.owner_id,
    metadata = excluded.metadata,
    version = excluded.version,
    updated_at = excluded.updated_at,
    last_accessed_at = excluded.last_accessed_at
