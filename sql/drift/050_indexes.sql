-- Indexes that no constraint owns (those come and go with their constraint), as CREATE INDEX
-- text, and whether each is valid.
SELECT n.nspname::text AS schema, t.relname::text AS table_name, i.relname::text AS name,
       pg_get_indexdef(x.indexrelid) AS definition, x.indisvalid
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND t.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT FROM pg_constraint AS k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid)
  AND NOT EXISTS (SELECT FROM pg_depend AS d WHERE d.objid = t.oid AND d.deptype = 'e')
ORDER BY 1, 2, 3;
