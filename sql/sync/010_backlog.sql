-- The backlog: logged changes not forwarded (legacy) or written back (the new app's) yet, by
-- source and operation, with how long the oldest has waited (seconds, by the server's clock).
SELECT l.source_table, l.operation, count(*) AS changes,
       extract(epoch FROM clock_timestamp() - min(l.captured_at))::float8 AS oldest_seconds
FROM :"tool.capture_log" AS l
WHERE l.forwarded_at IS NULL
GROUP BY l.source_table, l.operation
UNION ALL
SELECT 'chat_messages (write-back)', a.operation, count(*),
       extract(epoch FROM clock_timestamp() - min(a.captured_at))::float8
FROM :"tool.app_log" AS a
WHERE a.written_back_at IS NULL
GROUP BY a.operation
ORDER BY 1, 2;
