-- A phase begins: recorded before it touches anything, so a crash leaves a 'running' record.
INSERT INTO :"tool.phase_records" (run_id, phase, action, status, os_user, config_fingerprint, sql_sha256)
VALUES (%(run_id)s, %(phase)s, %(action)s, 'running', %(os_user)s, %(config_fingerprint)s, %(sql_sha256)s)
RETURNING id;
