-- Every row security policy outside the managed schemas, with its expressions as the server
-- deparses them (pg_policies.qual / with_check): the lint parses those, it does not match text.
SELECT format('%%I.%%I: %%s', p.schemaname, p.tablename, p.policyname) AS display,
       format('%%I.%%I', p.schemaname, p.tablename) AS table_display,
       p.policyname AS name,
       p.permissive = 'PERMISSIVE' AS permissive,
       p.roles::text[] AS roles,
       p.cmd AS command,
       p.qual AS using,
       p.with_check AS check
FROM pg_policies AS p
WHERE p.schemaname <> ALL (%(ignored_schemas)s)
ORDER BY 1
