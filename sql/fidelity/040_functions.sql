-- Functions of the reserved schemas: owner, volatility, SECURITY DEFINER, and which API roles
-- may call them (through any grant, PUBLIC's included).
SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner)::text, p.provolatile::text, p.prosecdef,
       coalesce((SELECT array_agg(r ORDER BY r) FROM unnest(%(callers)s::text[]) AS r
                 WHERE has_function_privilege(r, p.oid, 'EXECUTE')), '{}')
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = ANY (%(schemas)s::text[])
ORDER BY 1
