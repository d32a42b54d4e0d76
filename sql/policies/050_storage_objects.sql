-- storage.objects in the chat bucket: <session>/<uploader>/<file>. Participants (and admins)
-- read a session's files; a participant uploads, overwrites and moves only under
-- <own session>/<self>/; nobody but service_role removes. Other buckets are left as they are.
--
-- Reading stays fast at scale without an index of our own (on hosted Supabase storage.objects
-- belongs to the storage service). The Storage API lists a folder with `lower(name) COLLATE "C"`
-- ranges; lower() is not leakproof, so under row security those ranges are no index conditions:
-- they are checked after the policies, on every row of the bucket. So a restrictive policy
-- narrows reads through the table's own indexes itself, with arms the planner ORs as index scans:
--   * other buckets (two ranges of bucket_id), which it leaves alone;
--   * while the Storage API lists objects (it sets storage.operation per request, and a list
--     only reads), the caller's files by name: one (bucket_id, name) probe per file;
--   * otherwise every object id (a range the planner costs as small), so a statement's own
--     leakproof conditions (`name = $1` for a download, an update or a move) pick the index and
--     a new row (upload, upsert, move: RETURNING reads it back) passes before anyone lists it.
-- Being its own policy, the planner drops it from the per-row filter once the index scans imply
-- it, so a listing pays per file of the caller's, not per file in the bucket. Who reads what is
-- decided by the permissive policy alone: the setting only changes the speed, and a caller who
-- sets it hides only their own uploads of that statement from themselves.

-- The caller's files in the chat bucket while the Storage API lists objects (NULL otherwise, and
-- for admins, who read the whole bucket): SECURITY DEFINER so the lookup is one index range per
-- session outside these policies; row_security off so an owner without BYPASSRLS fails loudly
-- instead of re-entering them.
CREATE OR REPLACE FUNCTION :"helper.chat_files_listed"() RETURNS text[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' SET row_security = off
AS $$
  SELECT array_agg(o.name)
  FROM :"helper.my_chat_sessions"() AS mine
  JOIN storage.objects AS o
    ON o.bucket_id = :'bucket'
   AND o.name COLLATE "C" >= mine::text || '/'
   AND o.name COLLATE "C" < mine::text || '0'
  WHERE current_setting('storage.operation', true) = 'storage.object.list'
    AND NOT :"helper.is_chat_admin"()
$$;
REVOKE ALL ON FUNCTION :"helper.chat_files_listed"() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION :"helper.chat_files_listed"() TO authenticated, service_role;

-- The lowest object id the id arm admits: the lowest uuid (every object), or NULL (none) while a
-- participant lists and their files are named instead.
CREATE OR REPLACE FUNCTION :"helper.chat_files_id_floor"() RETURNS uuid
  LANGUAGE sql STABLE SET search_path = ''
AS $$
  SELECT CASE
    WHEN current_setting('storage.operation', true) IS DISTINCT FROM 'storage.object.list'
      OR :"helper.is_chat_admin"()
    THEN '00000000-0000-0000-0000-000000000000'::uuid
  END
$$;
REVOKE ALL ON FUNCTION :"helper.chat_files_id_floor"() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION :"helper.chat_files_id_floor"() TO authenticated, service_role;

-- Who reads: admins, and participants of the session the first folder names (split_part and
-- strpos are C functions, cheap per row; a name without '/' has no folder).
CREATE POLICY "chat files: participants and admins read" ON storage.objects
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (
    bucket_id = :'bucket'
    AND (
      (SELECT :"helper.is_chat_admin"())
      OR (
        split_part(name, '/', 1) IN (SELECT mine::text FROM :"helper.my_chat_sessions"() AS mine)
        AND strpos(name, '/') > 0
      )
    )
  );

CREATE POLICY "chat files: reads narrowed by index" ON storage.objects
  AS RESTRICTIVE FOR SELECT TO authenticated
  USING (
    bucket_id < :'bucket'
    OR bucket_id > :'bucket'
    OR name = ANY ((SELECT :"helper.chat_files_listed"())::text[])
    OR id BETWEEN (SELECT :"helper.chat_files_id_floor"()) AND 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
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
