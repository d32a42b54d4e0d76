-- One planned reference rewrite; planning again keeps the row the first plan wrote.
INSERT INTO :"tool.storage_rewrites"
  (table_name, row_id, column_name, json_path, path_key, old_value, new_value, source_bucket, source_name,
   dest_name)
VALUES (%(table_name)s, %(row_id)s, %(column_name)s, %(json_path)s, md5(%(json_path)s::text[]::text),
        %(old_value)s, %(new_value)s, %(source_bucket)s, %(source_name)s, %(dest_name)s)
ON CONFLICT DO NOTHING
