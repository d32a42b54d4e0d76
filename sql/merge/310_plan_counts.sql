-- The plan's counts over the classified rows (merge/300_plan_source.sql, classified as a batch
-- would be): rows per source, fate and reason, and the sessions merge would create.
SELECT c.source_table, c.fate, coalesce(c.reason, ''), count(*)
FROM classified AS c
GROUP BY 1, 2, 3
UNION ALL
SELECT '', 'sessions', '', count(DISTINCT c.session_id) FILTER (WHERE c.fate = 'migrated' AND NOT c.session_exists)
FROM classified AS c
ORDER BY 1, 2, 3
