-- Every object of a bucket under a folder prefix ('' for all), in the byte order Storage lists.
SELECT name, metadata
FROM storage.objects
WHERE bucket_id = %(bucket)s AND starts_with(name, %(prefix)s)
ORDER BY name COLLATE "C"
