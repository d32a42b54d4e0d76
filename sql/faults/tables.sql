-- The base tables of the schemas whose names match a LIKE pattern.
SELECT table_schema, table_name
FROM information_schema.tables
WHERE table_schema LIKE %(pattern)s AND table_type = 'BASE TABLE'
ORDER BY 1, 2;
