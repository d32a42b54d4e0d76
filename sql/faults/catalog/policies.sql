-- Row level security policies, in full.
SELECT md5(ROW(schemaname, tablename, policyname, permissive, roles, cmd, qual, with_check)::text)
FROM pg_policies
WHERE schemaname = ANY (%(schemas)s);
