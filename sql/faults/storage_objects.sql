-- Storage object rows without what each upload stamps anew: id, version, times, lastModified.
SELECT md5(ROW(bucket_id, name, owner, owner_id, metadata - 'lastModified', path_tokens, user_metadata)::text)
FROM storage.objects;
