-- Many objects' current versions and metadata at once (the bulk copy): one row per object found.
SELECT o.bucket_id, o.name, o.version, o.metadata
FROM storage.objects AS o
JOIN unnest(%(buckets)s::text[], %(names)s::text[]) AS wanted (bucket, name)
  ON o.bucket_id = wanted.bucket AND o.name = wanted.name
