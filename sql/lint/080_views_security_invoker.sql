-- Views over the chat tables without security_invoker run as their owner, so the tables'
-- row level security does not apply to whoever queries the view.
SELECT DISTINCT format('%%I.%%I', vn.nspname, v.relname) AS object,
       format('view reads %%s without security_invoker = true', t.oid::regclass::text) AS message,
       coalesce(array_to_string(v.reloptions, ', '), 'no options') AS detail
FROM pg_class AS v JOIN pg_namespace AS vn ON vn.oid = v.relnamespace
JOIN pg_rewrite AS rw ON rw.ev_class = v.oid
JOIN pg_depend AS d ON d.objid = rw.oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
JOIN pg_class AS t ON t.oid = d.refobjid AND t.oid <> v.oid
WHERE v.relkind = 'v' AND t.oid = ANY (%(chat_tables)s::regclass[])
  AND NOT coalesce('security_invoker=true' = ANY (v.reloptions) OR 'security_invoker=on' = ANY (v.reloptions), false)
  AND vn.nspname <> ALL (%(ignored_schemas)s)
ORDER BY 1
