SELECT b.id FROM storage.buckets AS b WHERE b.id = ANY (%(buckets)s::text[])
