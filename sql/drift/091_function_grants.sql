-- EXECUTE on functions, granted to roles other than the owner (PUBLIC's by default).
SELECT n.nspname::text AS schema, p.proname::text AS name,
       oidvectortypes(p.proargtypes) AS argument_types,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE r.rolname::text END AS grantee,
       g.privilege_type::text AS privilege, g.is_grantable
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS g
LEFT JOIN pg_roles AS r ON r.oid = g.grantee
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND p.prokind IN ('f', 'p')
  AND g.grantee <> p.proowner
  AND NOT EXISTS (SELECT FROM pg_depend AS d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1, 2, 3, 4, 5;
