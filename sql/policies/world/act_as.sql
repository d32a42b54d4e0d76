-- Act as PostgREST and the Storage API do for a request: role and JWT claims (also in the
-- legacy per-claim settings auth.uid() reads first), the request, the storage operation,
-- all transaction-local, so the enclosing savepoint's rollback undoes them.
SELECT set_config('role', %(role)s, true),
       set_config('request.jwt.claims', %(claims)s, true),
       set_config('request.jwt.claim.sub', %(sub)s, true),
       set_config('request.jwt.claim.role', %(role)s, true),
       set_config('request.jwt.claim.email', %(email)s, true),
       set_config('request.method', %(method)s, true),
       set_config('request.path', %(path)s, true),
       set_config('storage.operation', %(operation)s, true),
       set_config('storage.allow_delete_query', %(allow_delete)s, true)
