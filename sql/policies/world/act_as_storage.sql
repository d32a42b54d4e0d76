-- Act as the Storage API does before each statement of a request (its scope statement): the
-- role, the legacy per-claim settings it still sets (role and sub), the raw token, the claims,
-- the request's headers, method and path, the storage operation, and the flag that lets its
-- own DELETEs through the delete protection; all transaction-local.
SELECT set_config('role', %(role)s, true),
       set_config('request.jwt.claim.role', %(role)s, true),
       set_config('request.jwt', %(jwt)s, true),
       set_config('request.jwt.claim.sub', %(sub)s, true),
       set_config('request.jwt.claims', %(claims)s, true),
       set_config('request.headers', %(headers)s, true),
       set_config('request.method', %(method)s, true),
       set_config('request.path', %(path)s, true),
       set_config('storage.operation', %(operation)s, true),
       set_config('storage.allow_delete_query', 'true', true)
