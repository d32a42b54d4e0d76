-- Indexes, and whether they are valid: a CREATE INDEX CONCURRENTLY cut short leaves an invalid one.
SELECT md5(ROW(n.nspname, pg_get_indexdef(i.indexrelid), i.indisvalid, i.indisready)::text)
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%(schemas)s);
