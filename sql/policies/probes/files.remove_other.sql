DELETE FROM storage.objects WHERE bucket_id = %(bucket)s AND name = %(other_file)s
RETURNING id
