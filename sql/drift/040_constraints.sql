-- Primary keys, unique, check, foreign key and exclusion constraints (NOT NULL is a column's).
SELECT n.nspname::text AS schema, c.relname::text AS table_name, k.conname::text AS name,
       k.contype::text AS type, pg_get_constraintdef(k.oid) AS definition, k.convalidated
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND k.contype IN ('p', 'u', 'c', 'f', 'x')
  AND NOT EXISTS (SELECT FROM pg_depend AS x WHERE x.objid = c.oid AND x.deptype = 'e')
ORDER BY 1, 2, 3;
