-- The foreign keys and check constraints on a table, as the catalog has them: what the phase
-- compares with what it must guarantee (by meaning, whatever their names).
SELECT c.conname::text,
       c.contype::text,
       array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k (attnum, n)
             JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.n) AS columns,
       rn.nspname::text AS referenced_schema,
       r.relname::text AS referenced_table,
       array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k (attnum, n)
             JOIN pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
             ORDER BY k.n) AS referenced_columns,
       c.convalidated,
       pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint AS c
LEFT JOIN pg_class AS r ON r.oid = c.confrelid
LEFT JOIN pg_namespace AS rn ON rn.oid = r.relnamespace
WHERE c.conrelid = %(table)s::regclass
  AND c.contype IN ('f', 'c')
ORDER BY c.conname;
