-- A phase's session-level advisory lock: one operator per phase.
SELECT pg_try_advisory_lock(%(classid)s, %(objid)s);
