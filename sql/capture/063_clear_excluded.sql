-- A forwarded row's earlier exclusion makes way for its new fate.
DELETE FROM :"tool.excluded" AS e
USING capture_batch AS cb
WHERE e.source_table = cb.source_table AND e.source_id = cb.source_id;
