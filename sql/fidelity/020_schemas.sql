-- Schemas: owner, and who may use or create in them (grantee=privileges, * for grant option).
SELECT n.nspname::text, pg_get_userbyid(n.nspowner)::text,
       coalesce((SELECT array_agg(a.item ORDER BY a.item) FROM (
         SELECT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END || '=' ||
                string_agg(CASE g.privilege_type WHEN 'USAGE' THEN 'U' ELSE 'C' END
                           || CASE WHEN g.is_grantable THEN '*' ELSE '' END,
                           '' ORDER BY g.privilege_type DESC) AS item
         FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS g
         WHERE g.grantee <> n.nspowner
         GROUP BY g.grantee) AS a), '{}')
FROM pg_namespace AS n
WHERE n.nspname = ANY (%(schemas)s::text[])
ORDER BY 1
