-- The newest record of a phase and action in a given status.
SELECT id, run_id, status, started_at, finished_at, db_user, os_user, config_fingerprint,
       sql_sha256, counts, checksums, details
FROM :"tool.phase_records"
WHERE phase = %(phase)s AND action = %(action)s AND status = %(status)s
ORDER BY id DESC
LIMIT 1;
