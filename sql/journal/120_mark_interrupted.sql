-- Records of a phase still 'running' when a new run holds the phase's lock belong to a run that
-- died (killed, or its connection lost): no live run can hold them.
UPDATE :"tool.phase_records"
SET status = 'interrupted', finished_at = clock_timestamp(),
    error = coalesce(error, 'the run ended before finishing (killed, or its connection was lost)')
WHERE phase = %(phase)s AND status = 'running'
RETURNING id;
