-- What `policies rollback` would restore: the phase's baseline (the state before its first apply).
SELECT md5(checksums::text)
FROM :"tool.baselines"
WHERE phase = 'policies';
