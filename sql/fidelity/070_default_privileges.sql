-- Default privileges the given roles' new objects in the given schemas get (grantee=letters).
SELECT pg_get_userbyid(d.defaclrole)::text || ' in ' || d.defaclnamespace::regnamespace::text,
       CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'f' THEN 'functions' WHEN 'S' THEN 'sequences'
            ELSE d.defaclobjtype::text END,
       array_agg(DISTINCT pg_get_userbyid(g.grantee)::text ORDER BY pg_get_userbyid(g.grantee)::text)
FROM pg_default_acl AS d
CROSS JOIN LATERAL aclexplode(d.defaclacl) AS g
WHERE d.defaclnamespace::regnamespace::text = ANY (%(schemas)s::text[])
GROUP BY 1, 2
ORDER BY 1, 2
