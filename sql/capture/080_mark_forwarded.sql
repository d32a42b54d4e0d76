-- The log entries this forwarding took, marked in the same transaction as the rows it wrote.
UPDATE :"tool.capture_log" AS l
SET forwarded_at = clock_timestamp()
WHERE l.id IN (SELECT unnest(cb.log_ids) FROM capture_batch AS cb);
