-- The newest journal record of a phase and action (id, status): a trial watches for its run's.
SELECT id, status
FROM :"tool.phase_records"
WHERE phase = %(phase)s AND action = %(action)s
ORDER BY id DESC
LIMIT 1;
