-- Two operators installing at once would race on CREATE ... IF NOT EXISTS: one waits.
SELECT pg_advisory_xact_lock(%(key)s, 0);
