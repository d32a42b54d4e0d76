-- What the database holds already: the legacy tables (and the seed's mark on them), seeded
-- users, and objects in the chat buckets.
SELECT to_regclass('public.messages') IS NOT NULL AS has_tables,
       coalesce(obj_description(to_regclass('public.messages'), 'pg_class'), '') AS mark,
       EXISTS (SELECT 1 FROM auth.users WHERE email LIKE '%%@seed.invalid') AS has_seeded_users,
       EXISTS (SELECT 1 FROM storage.objects
               WHERE bucket_id IN ('chat-attachments', 'voice-notes', 'chat-files')) AS has_objects
