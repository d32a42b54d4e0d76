-- A running phase writes its details before it changes anything: what a re-run after a kill
-- must find (the state to restore, the schema it was filling).
UPDATE :"tool.phase_records"
SET details = %(details)s
WHERE id = %(id)s AND status = 'running';
