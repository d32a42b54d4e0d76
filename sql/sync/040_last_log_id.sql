-- The newest log entries: `sync --once` forwards and writes back up to here and no further.
SELECT (SELECT coalesce(max(id), 0) FROM :"tool.capture_log"),
       (SELECT coalesce(max(id), 0) FROM :"tool.app_log");
