-- The capture backlog: logged changes not forwarded yet, by source and operation, with how long
-- the oldest has waited (seconds, by the server's clock).
SELECT l.source_table, l.operation, count(*) AS changes,
       extract(epoch FROM clock_timestamp() - min(l.captured_at))::float8 AS oldest_seconds
FROM :"tool.capture_log" AS l
WHERE l.forwarded_at IS NULL
GROUP BY l.source_table, l.operation
ORDER BY l.source_table, l.operation;
