-- Privileges on tables, and on single columns, granted to roles other than the owner.
SELECT n.nspname::text AS schema, c.relname::text AS table_name, '' AS column_name,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE r.rolname::text END AS grantee,
       g.privilege_type::text AS privilege, g.is_grantable
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS g
LEFT JOIN pg_roles AS r ON r.oid = g.grantee
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND c.relkind IN ('r', 'p')
  AND g.grantee <> c.relowner
UNION ALL
SELECT n.nspname::text, c.relname::text, a.attname::text,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE r.rolname::text END,
       g.privilege_type::text, g.is_grantable
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(a.attacl) AS g
LEFT JOIN pg_roles AS r ON r.oid = g.grantee
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
  AND g.grantee <> c.relowner
ORDER BY 1, 2, 3, 4, 5;
