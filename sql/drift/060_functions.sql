-- Functions and procedures: signature (name and argument types; a function is known by its
-- types, its arguments' names can differ), result, a hash of the body,
-- and the full CREATE OR REPLACE text that recreates one (extensions' own left out).
SELECT n.nspname::text AS schema, p.proname::text AS name,
       oidvectortypes(p.proargtypes) AS argument_types,
       pg_get_function_identity_arguments(p.oid) AS arguments,
       coalesce(pg_get_function_result(p.oid), '') AS result,
       encode(sha256(convert_to(p.prosrc, 'UTF8')), 'hex') AS body_sha256,
       pg_get_functiondef(p.oid) AS definition,
       p.prokind::text AS kind
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = ANY (%(schemas)s::text[])
  AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT FROM pg_depend AS d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1, 2, 3;
