-- Which buckets serve public URLs: a public URL into any other bucket answers 400 for everyone.
SELECT b.id, b.public FROM storage.buckets AS b
