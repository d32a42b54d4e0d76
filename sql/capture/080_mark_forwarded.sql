-- The log entries this forwarding took, marked in the same transaction as the rows it wrote;
-- their capture times give sync its lag (capture to visible in chat_messages).
UPDATE :"tool.capture_log" AS l
SET forwarded_at = clock_timestamp()
WHERE l.id IN (SELECT unnest(cb.log_ids) FROM capture_batch AS cb)
RETURNING l.captured_at;
