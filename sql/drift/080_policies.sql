-- Row level security policies of the compared schemas' tables and of the extra tables given
-- (storage.objects: the chat bucket's policies live there).
SELECT p.schemaname::text AS schema, p.tablename::text AS table_name, p.policyname::text AS name,
       p.permissive, p.roles::text[] AS roles, p.cmd, p.qual, p.with_check
FROM pg_policies AS p
WHERE p.schemaname = ANY (%(schemas)s::text[])
   OR format('%%s.%%s', p.schemaname, p.tablename) = ANY (%(policy_tables)s::text[])
ORDER BY 1, 2, 3;
