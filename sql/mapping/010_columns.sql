-- The columns of the mapped tables as the database has them: what the configuration is checked
-- against before a phase runs (a table missing here does not exist).
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type AS t ON t.oid = a.atttypid
WHERE n.nspname = %(schema)s AND c.relname = ANY (%(tables)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f');
