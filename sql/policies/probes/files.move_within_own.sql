UPDATE storage.objects SET name = %(moved_file)s, version = %(version)s
WHERE bucket_id = %(bucket)s AND name = %(own_file)s
RETURNING id
