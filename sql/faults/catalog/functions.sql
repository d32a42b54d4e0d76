-- Functions and procedures: definition (security definer, search_path included) and privileges.
SELECT md5(ROW(n.nspname, pg_get_functiondef(p.oid), p.proacl)::text)
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = ANY (%(schemas)s) AND p.prokind IN ('f', 'p');
