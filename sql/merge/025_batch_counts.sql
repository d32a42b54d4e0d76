-- What the batch is about to do, by fate and reason.
SELECT b.fate, coalesce(b.reason, ''), count(*)
FROM merge_batch AS b
GROUP BY b.fate, b.reason;
