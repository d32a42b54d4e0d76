-- The file each object row names in the store: bucket, name, version.
SELECT bucket_id, name, version
FROM storage.objects
WHERE version IS NOT NULL;
