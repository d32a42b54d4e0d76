-- The given buckets' public flags: the interim policies make the legacy buckets private, and
-- rollback puts each flag back.
SELECT b.id, b.public FROM storage.buckets AS b WHERE b.id = ANY (%(buckets)s::text[]) ORDER BY b.id
