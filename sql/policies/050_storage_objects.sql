-- storage.objects in the chat bucket: <session>/<uploader>/<file>. Participants (and admins)
-- read a session's files; a participant uploads, overwrites and moves only under
-- <own session>/<self>/; nobody but service_role removes. Other buckets are left as they are.
CREATE POLICY "chat files: participants and admins read" ON storage.objects
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (
    bucket_id = :'bucket'
    AND (
      (storage.foldername(name))[1] IN (
        SELECT mine::text FROM :"helper.my_chat_sessions"() AS mine
      )
      OR (SELECT :"helper.is_chat_admin"())
    )
  );

CREATE POLICY "chat files: participants upload under their own folder" ON storage.objects
  AS PERMISSIVE FOR INSERT TO authenticated
  WITH CHECK (
    bucket_id = :'bucket'
    AND (storage.foldername(name))[2] = (SELECT auth.uid())::text
    AND (storage.foldername(name))[1] IN (
      SELECT mine::text FROM :"helper.my_chat_sessions"() AS mine
    )
  );

CREATE POLICY "chat files: participants replace under their own folder" ON storage.objects
  AS PERMISSIVE FOR UPDATE TO authenticated
  USING (
    bucket_id = :'bucket'
    AND (storage.foldername(name))[2] = (SELECT auth.uid())::text
    AND (storage.foldername(name))[1] IN (
      SELECT mine::text FROM :"helper.my_chat_sessions"() AS mine
    )
  )
  WITH CHECK (
    bucket_id = :'bucket'
    AND (storage.foldername(name))[2] = (SELECT auth.uid())::text
    AND (storage.foldername(name))[1] IN (
      SELECT mine::text FROM :"helper.my_chat_sessions"() AS mine
    )
  );
