-- What a table or function the current user creates is granted by default (ALTER DEFAULT
-- PRIVILEGES), in a schema or everywhere (''): aligning resets a new object's grants to the
-- source's, so it must know what creating one hands out.
SELECT coalesce(n.nspname::text, '') AS schema, d.defaclobjtype::text AS object_type,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE r.rolname::text END AS grantee
FROM pg_default_acl AS d
LEFT JOIN pg_namespace AS n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL aclexplode(d.defaclacl) AS g
LEFT JOIN pg_roles AS r ON r.oid = g.grantee
WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND d.defaclobjtype IN ('r', 'f')
  AND (d.defaclnamespace = 0 OR n.nspname = ANY (%(schemas)s::text[]))
ORDER BY 1, 2, 3;
