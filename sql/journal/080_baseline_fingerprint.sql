-- The configuration fingerprint of the run that recorded a phase's baseline (its first apply).
SELECT pr.config_fingerprint
FROM :"tool.baselines" AS b
JOIN :"tool.phase_records" AS pr ON pr.id = b.record_id
WHERE b.phase = %(phase)s;
