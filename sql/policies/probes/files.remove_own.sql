DELETE FROM storage.objects WHERE bucket_id = %(bucket)s AND name = %(own_file)s
RETURNING id
