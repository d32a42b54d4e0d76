-- Row security flags and the API roles' table and column privileges of the given tables.
SELECT n.nspname::text AS schema, c.relname::text AS "table", c.relrowsecurity AS rls,
       c.relforcerowsecurity AS force_rls,
       coalesce((
         SELECT jsonb_agg(jsonb_build_array(r.rolname, x.privilege_type, x.is_grantable)
                          ORDER BY r.rolname, x.privilege_type)
         FROM aclexplode(c.relacl) AS x JOIN pg_roles AS r ON r.oid = x.grantee
         WHERE r.rolname = ANY (%(roles)s::text[])
       ), '[]') AS table_privileges,
       coalesce((
         SELECT jsonb_agg(jsonb_build_array(a.attname, r.rolname, x.privilege_type, x.is_grantable)
                          ORDER BY a.attname, r.rolname, x.privilege_type)
         FROM pg_attribute AS a CROSS JOIN LATERAL aclexplode(a.attacl) AS x
         JOIN pg_roles AS r ON r.oid = x.grantee
         WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL AND r.rolname = ANY (%(roles)s::text[])
       ), '[]') AS column_privileges
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN unnest(%(schemas)s::text[], %(tables)s::text[]) AS t (schema, name)
  ON t.schema = n.nspname AND t.name = c.relname
WHERE c.relkind IN ('r', 'p')
ORDER BY 1, 2
