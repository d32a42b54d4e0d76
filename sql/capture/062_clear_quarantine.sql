-- A forwarded row's earlier quarantine makes way for its new fate.
DELETE FROM :"tool.quarantine" AS q
USING capture_batch AS cb
WHERE q.source_table = cb.source_table AND q.source_id = cb.source_id;
