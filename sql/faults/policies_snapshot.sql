-- What `policies rollback` would restore: the details (snapshot) of the newest completed apply.
SELECT md5(details::text)
FROM :"tool.phase_records"
WHERE phase = 'policies' AND action = 'apply' AND status = 'completed'
ORDER BY id DESC
LIMIT 1;
