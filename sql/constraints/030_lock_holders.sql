-- Who holds a lock on the given tables right now (other than us): named when a step gives up.
SELECT DISTINCT a.pid, l.mode, coalesce(a.application_name, ''), a.state, a.xact_start
FROM pg_locks AS l
JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted
  AND l.relation = ANY (%(tables)s::regclass[])
  AND l.pid <> pg_backend_pid()
ORDER BY a.pid, l.mode;
