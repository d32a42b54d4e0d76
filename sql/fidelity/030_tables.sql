-- Tables of the reserved schemas: owner, row level security, privileges (grantee=letters as in
-- an aclitem, * for grant option; MAINTAIN left out: ALL includes it only from PostgreSQL 17)
-- and columns (name and type).
SELECT n.nspname::text || '.' || c.relname::text, pg_get_userbyid(c.relowner)::text, c.relrowsecurity,
       coalesce((SELECT array_agg(a.item ORDER BY a.item) FROM (
         SELECT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END || '=' ||
                string_agg(p.letter || CASE WHEN g.is_grantable THEN '*' ELSE '' END, '' ORDER BY p.rank) AS item
         FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS g
         JOIN (VALUES ('INSERT', 'a', 1), ('SELECT', 'r', 2), ('UPDATE', 'w', 3), ('DELETE', 'd', 4),
                      ('TRUNCATE', 'D', 5), ('REFERENCES', 'x', 6), ('TRIGGER', 't', 7))
           AS p (privilege, letter, rank) ON p.privilege = g.privilege_type
         WHERE g.grantee <> c.relowner
         GROUP BY g.grantee) AS a), '{}'),
       (SELECT array_agg(att.attname::text || ' ' || format_type(att.atttypid, att.atttypmod) ORDER BY att.attname)
        FROM pg_attribute AS att WHERE att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped)
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%(schemas)s::text[]) AND c.relkind IN ('r', 'p')
ORDER BY 1
