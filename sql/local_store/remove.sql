-- Delete objects by name; the caller has lifted the delete protection for this transaction.
DELETE FROM storage.objects
WHERE bucket_id = %(bucket)s AND name = ANY (%(names)s::text[])
RETURNING name, version
