-- Schemas and their privileges.
SELECT md5(ROW(nspname, nspacl)::text)
FROM pg_namespace
WHERE nspname = ANY (%(schemas)s);
