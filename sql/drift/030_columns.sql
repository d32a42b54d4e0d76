-- Columns: type as the database spells it, NOT NULL, default expression.
SELECT n.nspname::text AS schema, c.relname::text AS table_name, a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid) AS default_value
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND NOT EXISTS (SELECT FROM pg_depend AS x WHERE x.objid = c.oid AND x.deptype = 'e')
ORDER BY 1, 2, a.attnum;
