-- The Storage API's public route reads as the storage service itself (no policy applies): an
-- object is served to anyone exactly when its bucket is public.
SELECT o.id FROM storage.objects AS o JOIN storage.buckets AS b ON b.id = o.bucket_id
WHERE b.public AND o.bucket_id = %(bucket)s AND o.name = %(other_file)s
