-- Who holds a phase's advisory lock (two-key form: classid = key1, objid = key2).
SELECT a.pid, a.usename, a.application_name, host(a.client_addr), a.backend_start
FROM pg_locks AS l
JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.classid = %(classid)s::bigint::text::oid AND l.objid = %(objid)s::bigint::text::oid
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
LIMIT 1;
