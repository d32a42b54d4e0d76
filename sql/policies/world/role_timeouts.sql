-- The statement_timeout each API role has of its own (ALTER ROLE ... SET, for this database or
-- all), which PostgREST applies when it switches to the role; authenticator's is the fallback,
-- the login PostgREST's connections are made as.
SELECT r.rolname::text, split_part(setting, '=', 2)
FROM pg_db_role_setting AS s
JOIN pg_roles AS r ON r.oid = s.setrole
CROSS JOIN LATERAL unnest(s.setconfig) AS setting
WHERE r.rolname = ANY (%(roles)s::text[])
  AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
  AND split_part(setting, '=', 1) = 'statement_timeout'
ORDER BY s.setdatabase
