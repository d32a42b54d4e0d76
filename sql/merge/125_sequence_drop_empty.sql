-- Sessions sequenced before that no longer have any message lose their sequence.
DELETE FROM :"tool.session_sequence" AS ss
WHERE NOT EXISTS (SELECT 1 FROM session_rollup AS r WHERE r.session_id = ss.session_id);
