-- References the storage phase rewrote (what rollback restores), in a stable order.
SELECT table_name, row_id, column_name, json_path, old_value, new_value
FROM :"tool.storage_rewrites"
WHERE state = 'rewritten'
ORDER BY table_name, row_id, column_name, json_path
