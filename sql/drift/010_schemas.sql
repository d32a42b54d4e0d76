-- The compared schemas that exist.
SELECT n.nspname::text AS schema
FROM pg_namespace AS n
WHERE n.nspname = ANY (%(schemas)s::text[])
ORDER BY 1;
