-- References still to rewrite whose copy is verified (a failed one is tried again: its cause may
-- be gone), in a stable order.
SELECT r.table_name, r.row_id, r.column_name, r.json_path, r.old_value, r.new_value
FROM :"tool.storage_rewrites" AS r
JOIN :"tool.storage_transfers" AS t
  ON (t.source_bucket, t.source_name, t.dest_name) = (r.source_bucket, r.source_name, r.dest_name)
WHERE r.state IN ('planned', 'failed') AND t.state = 'verified'
ORDER BY r.table_name, r.row_id, r.column_name, r.json_path
