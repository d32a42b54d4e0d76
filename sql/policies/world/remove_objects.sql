-- Fixture objects the Storage API did not remove (a row without its file), removed as the
-- Storage API itself would (storage.allow_delete_query is set before, in the same transaction).
DELETE FROM storage.objects WHERE bucket_id = %(bucket)s AND name = ANY (%(names)s::text[])
