-- Act as PostgREST (v12) does for a table request: the search path it is configured with, the
-- role, the settings of its login (authenticator) and of the role (its impersonated role
-- settings: statement_timeout...), the JWT's claims as one JSON, the request's method, path,
-- headers and cookies; all transaction-local, so the enclosing savepoint's rollback undoes
-- them. It sets no per-claim settings (request.jwt.claim.sub and the like): PostgREST stopped
-- in v9, so a policy reading them finds nothing, as on Supabase.
SELECT set_config('search_path', %(search_path)s, true),
       set_config('role', %(role)s, true),
       (SELECT count(set_config(setting.key, setting.value, true))
        FROM jsonb_each_text(%(role_settings)s::jsonb) AS setting),
       set_config('request.jwt.claims', %(claims)s, true),
       set_config('request.method', %(method)s, true),
       set_config('request.path', %(path)s, true),
       set_config('request.headers', %(headers)s, true),
       set_config('request.cookies', %(cookies)s, true)
