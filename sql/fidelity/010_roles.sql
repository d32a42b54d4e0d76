-- Supabase's roles: their attributes and settings, and the roles each is a member of (with
-- ADMIN OPTION or not), among the roles the contract models.
SELECT r.rolname::text, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
       r.rolreplication, r.rolbypassrls,
       coalesce((SELECT array_agg(c ORDER BY c) FROM unnest(s.setconfig) AS c), '{}') AS config,
       coalesce((SELECT array_agg(g.rolname::text ORDER BY g.rolname)
                 FROM pg_auth_members AS m JOIN pg_roles AS g ON g.oid = m.roleid
                 WHERE m.member = r.oid), '{}') AS member_of,
       coalesce((SELECT array_agg(g.rolname::text ORDER BY g.rolname)
                 FROM pg_auth_members AS m JOIN pg_roles AS g ON g.oid = m.roleid
                 WHERE m.member = r.oid AND m.admin_option), '{}') AS admin_of
FROM pg_roles AS r
LEFT JOIN pg_db_role_setting AS s ON s.setrole = r.oid AND s.setdatabase = 0
WHERE r.rolname = ANY (%(roles)s::text[])
ORDER BY 1
