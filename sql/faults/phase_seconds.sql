-- How long the newest completed run of a phase and action took: the window kills are drawn from.
SELECT extract(epoch FROM finished_at - started_at)
FROM :"tool.phase_records"
WHERE phase = %(phase)s AND action = %(action)s AND status = 'completed'
ORDER BY id DESC
LIMIT 1;
