-- One object's current version and metadata, or no row.
SELECT version, metadata
FROM storage.objects
WHERE bucket_id = %(bucket)s AND name = %(name)s
