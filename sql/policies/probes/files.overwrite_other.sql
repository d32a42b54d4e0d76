INSERT INTO storage.objects AS o (bucket_id, name, owner, owner_id, metadata, version)
VALUES (%(bucket)s, %(other_file)s, %(uid)s::uuid, %(uid)s::text, '{"size": 6, "mimetype": "text/plain"}', %(version)s)
ON CONFLICT (bucket_id, name) DO UPDATE SET
  owner = EXCLUDED.owner, owner_id = EXCLUDED.owner_id, metadata = EXCLUDED.metadata, version = EXCLUDED.version
RETURNING o.id
