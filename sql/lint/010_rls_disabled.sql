-- Tables whose row security is off although they have policies (the policies do nothing),
-- or that live in an API-exposed schema (every API role reads and writes every row).
SELECT format('%%I.%%I', n.nspname, c.relname) AS object,
       CASE WHEN EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = c.oid)
            THEN 'row level security is off, so its policies are ignored'
            ELSE 'row level security is off on a table in an API-exposed schema' END AS message,
       'ALTER TABLE ' || format('%%I.%%I', n.nspname, c.relname) || ' ENABLE ROW LEVEL SECURITY' AS detail
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relrowsecurity
  AND (n.nspname = ANY (%(exposed_schemas)s) OR EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = c.oid))
ORDER BY 1
