-- What the batch is about to do, by fate and reason.
SELECT b.fate, coalesce(b.reason, ''), count(*),
       count(DISTINCT b.session_id) FILTER (WHERE b.fate = 'migrated' AND NOT b.session_exists)
FROM merge_batch AS b
GROUP BY b.fate, b.reason;
