-- Every policy on the given tables, as pg_policies shows it: what rollback recreates.
SELECT p.schemaname::text AS schema, p.tablename::text AS "table", p.policyname::text AS name,
       p.permissive, p.roles::text[] AS roles, p.cmd, p.qual, p.with_check
FROM pg_policies AS p
JOIN unnest(%(schemas)s::text[], %(tables)s::text[]) AS t (schema, name)
  ON t.schema = p.schemaname AND t.name = p.tablename
ORDER BY 1, 2, 3
