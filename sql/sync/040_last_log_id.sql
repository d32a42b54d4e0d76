-- The newest log entry: `sync --once` forwards up to here and no further.
SELECT coalesce(max(id), 0) FROM :"tool.capture_log";
