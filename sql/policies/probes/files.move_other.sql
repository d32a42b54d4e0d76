UPDATE storage.objects SET name = %(stolen_file)s, version = %(version)s
WHERE bucket_id = %(bucket)s AND name = %(other_file)s
RETURNING id
