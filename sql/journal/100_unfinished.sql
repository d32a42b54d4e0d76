-- The records of a phase that never completed since its newest completed one (of any action),
-- older than the caller's own record, newest first: runs killed or failed part-way.
SELECT id, action, status, details
FROM :"tool.phase_records"
WHERE phase = %(phase)s
  AND id < %(before)s
  AND status <> 'completed'
  AND id > coalesce((SELECT max(id) FROM :"tool.phase_records"
                     WHERE phase = %(phase)s AND status = 'completed' AND id < %(before)s), 0)
ORDER BY id DESC;
