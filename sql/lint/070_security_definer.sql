-- SECURITY DEFINER functions run with their owner's rights: without a pinned search_path a
-- caller can shadow what they call; executable by anon, anyone on the internet can call them.
SELECT format('%%I.%%s', n.nspname, p.oid::regprocedure::text) AS object,
       concat_ws('; ',
         CASE WHEN NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) AS c WHERE c LIKE 'search_path=%%')
              THEN 'SECURITY DEFINER without a pinned search_path' END,
         CASE WHEN has_function_privilege('anon', p.oid, 'EXECUTE') THEN 'SECURITY DEFINER executable by anon' END
       ) AS message,
       coalesce(array_to_string(p.proconfig, ', '), 'no SET options') AS detail
FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE p.prosecdef AND n.nspname <> ALL (%(ignored_schemas)s)
  AND (NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) AS c WHERE c LIKE 'search_path=%%')
       OR has_function_privilege('anon', p.oid, 'EXECUTE'))
ORDER BY 1
