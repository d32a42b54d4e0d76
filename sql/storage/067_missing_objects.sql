-- Of the object names given, those the bucket does not hold (storage.objects is the Storage
-- API's own catalog of what it serves).
SELECT n.name
FROM unnest(%(names)s::text[]) AS n (name)
WHERE NOT EXISTS (SELECT FROM storage.objects AS o WHERE o.bucket_id = %(bucket)s AND o.name = n.name)
