-- Tables (plain and partitioned) and their row level security flags.
SELECT n.nspname::text AS schema, c.relname::text AS table_name, c.relrowsecurity, c.relforcerowsecurity
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT FROM pg_depend AS d WHERE d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2;
