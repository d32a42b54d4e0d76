-- Source rows whose captured changes wait to be forwarded, and the chat messages they map to:
-- during the transition window these are pending, not discrepancies (the next forward, sync or
-- cut-over gives them their fate), with the oldest capture's age.
SELECT l.source_id::text, p.chat_message_id::text, min(l.captured_at)
FROM :"tool.capture_log" AS l
LEFT JOIN :"tool.provenance" AS p ON p.source_table = l.source_table AND p.source_id = l.source_id
WHERE l.forwarded_at IS NULL
GROUP BY 1, 2;
