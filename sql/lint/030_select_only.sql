-- Tables with only SELECT policies while an API role may still INSERT: every insert through
-- the API fails (the hand-written plans' "secure" policies break sending messages this way).
SELECT format('%%I.%%I', n.nspname, c.relname) AS object,
       'only SELECT policies, but ' || string_agg(DISTINCT r.rolname, ', ') ||
       ' may INSERT: inserts will fail with "new row violates row-level security policy"' AS message,
       (SELECT string_agg(polname, ', ') FROM pg_policy WHERE polrelid = c.oid) AS detail
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
CROSS JOIN unnest(%(api_roles)s::text[]) AS r (rolname)
WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity
  AND n.nspname <> ALL (%(ignored_schemas)s)
  AND EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = c.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = c.oid AND p.polcmd <> 'r')
  AND has_table_privilege(r.rolname, c.oid, 'INSERT')
GROUP BY n.nspname, c.relname, c.oid
ORDER BY 1
