-- The new app's changes this write-back took, marked in the same transaction as the legacy rows
-- it wrote; their capture times give the write-back's lag.
UPDATE :"tool.app_log" AS a
SET written_back_at = clock_timestamp()
WHERE a.id IN (SELECT unnest(wb.log_ids) FROM write_back_batch AS wb)
RETURNING a.captured_at;
