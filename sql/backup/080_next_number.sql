-- The number of the next backup: one past every backup schema that exists or that a journal
-- record names (a plan and its apply pick the same name unless another backup ran between).
SELECT coalesce(max(number), 0) + 1
FROM (
  SELECT substring(nspname FROM '^' || %(prefix)s || '([0-9]{1,9})$')::int AS number
  FROM pg_namespace
  UNION ALL
  SELECT substring(r.details ->> 'schema' FROM '^' || %(prefix)s || '([0-9]{1,9})$')::int
  FROM :"tool.phase_records" AS r
  WHERE r.phase = 'backup' AND r.action = 'apply'
) AS taken;
