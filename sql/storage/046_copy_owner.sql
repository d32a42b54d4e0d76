-- Each verified copy belongs to whom its source belongs and keeps its user metadata. A copy
-- through the Storage API belongs to the caller (with the service key, to nobody): the owner is
-- set here, in the database, where the API cannot. Storage policies scoped by owner then see
-- the same object before and after the move. Only copies that differ are touched.
UPDATE storage.objects AS copy
SET owner = source.owner, owner_id = source.owner_id, user_metadata = source.user_metadata
FROM :"tool.storage_transfers" AS t
JOIN storage.objects AS source ON source.bucket_id = t.source_bucket AND source.name = t.source_name
WHERE t.state = 'verified'
  AND copy.bucket_id = t.dest_bucket AND copy.name = t.dest_name
  AND (copy.owner, copy.owner_id, copy.user_metadata)
      IS DISTINCT FROM (source.owner, source.owner_id, source.user_metadata)
