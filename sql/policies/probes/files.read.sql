SELECT o.id FROM storage.objects AS o WHERE o.bucket_id = %(bucket)s AND o.name = %(other_file)s
