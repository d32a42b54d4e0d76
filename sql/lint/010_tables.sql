-- Every table outside the schemas Supabase and PostgreSQL manage: its row security flags, how
-- many policies it has, and which API roles may reach it with which privilege (schema USAGE
-- plus a table or column grant): the lint calibrates each finding's severity by that reach.
SELECT format('%%I.%%I', n.nspname, c.relname) AS display,
       n.nspname AS schema,
       c.relname AS name,
       c.relrowsecurity AS rls,
       (SELECT count(*) FROM pg_policy AS p WHERE p.polrelid = c.oid) AS policies,
       n.nspname = ANY (%(exposed_schemas)s) AS exposed,
       coalesce((
         SELECT jsonb_object_agg(r.rolname, r.privileges)
         FROM (
           SELECT role.rolname, jsonb_agg(privilege.name ORDER BY privilege.name) AS privileges
           FROM unnest(%(api_roles)s::text[]) AS role (rolname)
           CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS privilege (name)
           WHERE has_schema_privilege(role.rolname, n.oid, 'USAGE')
             AND CASE WHEN privilege.name = 'DELETE' THEN has_table_privilege(role.rolname, c.oid, 'DELETE')
                      ELSE has_any_column_privilege(role.rolname, c.oid, privilege.name) END
           GROUP BY role.rolname
         ) AS r
       ), '{}') AS privileges
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> ALL (%(ignored_schemas)s) AND n.nspname NOT LIKE 'pg\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
