-- USAGE and CREATE on the compared schemas, granted to roles other than the owner.
SELECT n.nspname::text AS schema,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE r.rolname::text END AS grantee,
       g.privilege_type::text AS privilege, g.is_grantable
FROM pg_namespace AS n
CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS g
LEFT JOIN pg_roles AS r ON r.oid = g.grantee
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND g.grantee <> n.nspowner
ORDER BY 1, 2, 3;
