-- Views outside the managed schemas: their definitions (parsed by the lint to see what they
-- read), whether they run as the caller (security_invoker) and which API roles may select them.
SELECT format('%%I.%%I', n.nspname, c.relname) AS display,
       n.nspname = ANY (%(exposed_schemas)s) AS exposed,
       pg_get_viewdef(c.oid) AS definition,
       coalesce(EXISTS (
         SELECT 1 FROM unnest(c.reloptions) AS o (option)
         WHERE lower(o.option) IN ('security_invoker=true', 'security_invoker=on',
                                   'security_invoker=yes', 'security_invoker=1')
       ), false) AS security_invoker,
       coalesce(array_agg(role.rolname ORDER BY role.rolname) FILTER (
         WHERE has_schema_privilege(role.rolname, n.oid, 'USAGE')
           AND has_any_column_privilege(role.rolname, c.oid, 'SELECT')
       ), '{}') AS selectable_by
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
CROSS JOIN unnest(%(api_roles)s::text[]) AS role (rolname)
WHERE c.relkind = 'v'
  AND n.nspname <> ALL (%(ignored_schemas)s) AND n.nspname NOT LIKE 'pg\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
GROUP BY n.nspname, n.oid, c.relname, c.oid, c.reloptions
ORDER BY 1
