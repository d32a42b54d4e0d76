-- Tables and views: whether RLS is on (and forced), and who may do what.
SELECT md5(ROW(n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relacl)::text)
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f');
