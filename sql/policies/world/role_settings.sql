-- The settings roles have of their own (ALTER ROLE ... SET, for this database or all; the
-- database's win), as far as a non-superuser may set them: PostgREST logs in as authenticator,
-- whose settings hold for the session, and applies the impersonated role's on top.
SELECT r.rolname::text, split_part(c.setting, '=', 1), substr(c.setting, strpos(c.setting, '=') + 1)
FROM pg_db_role_setting AS s
JOIN pg_roles AS r ON r.oid = s.setrole
CROSS JOIN LATERAL unnest(s.setconfig) AS c (setting)
LEFT JOIN pg_settings AS known ON known.name = split_part(c.setting, '=', 1)
WHERE r.rolname = ANY (%(roles)s::text[])
  AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
  AND (known.name IS NULL OR known.context = 'user')
ORDER BY s.setdatabase
