-- The API roles that may read auth.users themselves: a security-invoker view over it is then
-- exposed too, not only a view that runs as its owner.
SELECT coalesce(array_agg(role.rolname ORDER BY role.rolname), '{}') AS roles
FROM unnest(%(api_roles)s::text[]) AS role (rolname)
WHERE to_regclass('auth.users') IS NOT NULL
  AND has_schema_privilege(role.rolname, 'auth', 'USAGE')
  AND has_any_column_privilege(role.rolname, 'auth.users', 'SELECT')
