-- References the database refused to rewrite, with its error (left as they were).
SELECT table_name, row_id, column_name, json_path, detail
FROM :"tool.storage_rewrites"
WHERE state = 'failed'
ORDER BY table_name, row_id, column_name, json_path
