-- Record one reference's new state (and why, when the rewrite failed), in the transaction that
-- changed (or did not change) the row.
UPDATE :"tool.storage_rewrites" SET state = %(state)s, detail = %(detail)s, updated_at = clock_timestamp()
WHERE table_name = %(table_name)s AND row_id = %(row_id)s AND column_name = %(column_name)s
  AND path_key = md5(%(json_path)s::text[]::text)
