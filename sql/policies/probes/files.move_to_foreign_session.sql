UPDATE storage.objects SET name = %(foreign_file)s, version = %(version)s
WHERE bucket_id = %(bucket)s AND name = %(own_file)s
RETURNING id
