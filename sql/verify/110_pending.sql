-- Source rows whose captured changes wait to be forwarded, the chat messages they map to, and
-- how long each has waited (seconds, by the server's clock): during the transition window these
-- are pending, not discrepancies (the next forward, sync or cut-over gives them their fate).
SELECT l.source_id::text, p.chat_message_id::text,
       extract(epoch FROM clock_timestamp() - min(l.captured_at))::float8
FROM :"tool.capture_log" AS l
LEFT JOIN :"tool.provenance" AS p ON p.source_table = l.source_table AND p.source_id = l.source_id
WHERE l.forwarded_at IS NULL
GROUP BY 1, 2;
