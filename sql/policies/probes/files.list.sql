SELECT o.name FROM storage.objects AS o
WHERE o.bucket_id = %(bucket)s AND o.name LIKE %(session_prefix)s
ORDER BY o.name LIMIT 100
