-- One legacy bucket while the old app still uses it (rendered once per bucket): private, so
-- nothing is served through a public URL without a policy; a file is read by its uploader (the
-- first folder, as the old app uploads), by the participants of the conversations whose legacy
-- rows refer to it, and by admins; only its uploader writes, replaces, renames or removes it.
-- Every policy keeps `bucket_id = <bucket>` as a conjunct, so the planner still narrows other
-- buckets' listings (chat-files above all) by bucket_id.
UPDATE storage.buckets SET public = false WHERE id = :'legacy_bucket' AND public;

CREATE POLICY :"legacy_read" ON storage.objects
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (
    bucket_id = :'legacy_bucket'
    AND (
      (split_part(name, '/', 1) = (SELECT auth.uid())::text AND strpos(name, '/') > 0)
      OR (SELECT :"helper.is_chat_admin"())
      OR :"helper.legacy_file_shared"(bucket_id, name)
    )
  );

CREATE POLICY :"legacy_upload" ON storage.objects
  AS PERMISSIVE FOR INSERT TO authenticated
  WITH CHECK (
    bucket_id = :'legacy_bucket'
    AND split_part(name, '/', 1) = (SELECT auth.uid())::text
    AND strpos(name, '/') > 0
  );

CREATE POLICY :"legacy_replace" ON storage.objects
  AS PERMISSIVE FOR UPDATE TO authenticated
  USING (
    bucket_id = :'legacy_bucket'
    AND split_part(name, '/', 1) = (SELECT auth.uid())::text
    AND strpos(name, '/') > 0
  )
  WITH CHECK (
    bucket_id = :'legacy_bucket'
    AND split_part(name, '/', 1) = (SELECT auth.uid())::text
    AND strpos(name, '/') > 0
  );

CREATE POLICY :"legacy_remove" ON storage.objects
  AS PERMISSIVE FOR DELETE TO authenticated
  USING (
    bucket_id = :'legacy_bucket'
    AND split_part(name, '/', 1) = (SELECT auth.uid())::text
    AND strpos(name, '/') > 0
  );
