-- A fixture file the service key wrote through the Storage API (owner NULL) is its user's again,
-- as when that user uploaded it.
UPDATE storage.objects SET owner = %(owner)s::uuid, owner_id = %(owner)s::text
WHERE bucket_id = %(bucket)s AND name = %(name)s
