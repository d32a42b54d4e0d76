-- The Storage buckets and whether each is public (served without policies); the lint asks
-- only when storage.buckets exists.
SELECT b.id, coalesce(b.public, false) AS public
FROM storage.buckets AS b
ORDER BY b.id
