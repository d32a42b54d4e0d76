-- Functions and procedures outside the managed schemas: language and body (the lint parses SQL
-- bodies and tokenizes PL/pgSQL ones), SECURITY DEFINER, the search_path pinned by SET (NULL
-- when none) and which API roles may execute them.
SELECT format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS display,
       n.nspname = ANY (%(exposed_schemas)s) AS exposed,
       l.lanname AS language,
       p.prosecdef AS security_definer,
       p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype) AS trigger_function,
       (SELECT substr(c.setting, length('search_path=') + 1)
        FROM unnest(p.proconfig) AS c (setting)
        WHERE c.setting LIKE 'search\_path=%%') AS search_path,
       coalesce(pg_get_function_sqlbody(p.oid), p.prosrc) AS body,
       coalesce(array_agg(role.rolname ORDER BY role.rolname) FILTER (
         WHERE has_schema_privilege(role.rolname, n.oid, 'USAGE')
           AND has_function_privilege(role.rolname, p.oid, 'EXECUTE')
       ), '{}') AS executable_by
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_language AS l ON l.oid = p.prolang
CROSS JOIN unnest(%(api_roles)s::text[]) AS role (rolname)
WHERE p.prokind IN ('f', 'p')
  AND n.nspname <> ALL (%(ignored_schemas)s) AND n.nspname NOT LIKE 'pg\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
GROUP BY n.nspname, n.oid, p.oid, l.lanname
ORDER BY 1
