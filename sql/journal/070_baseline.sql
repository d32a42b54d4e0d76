-- Pre-phase checksums, recorded once: a resumed phase keeps the first run's baseline.
INSERT INTO :"tool.baselines" (phase, record_id, checksums)
VALUES (%(phase)s, %(record_id)s, %(checksums)s)
ON CONFLICT (phase) DO NOTHING;
