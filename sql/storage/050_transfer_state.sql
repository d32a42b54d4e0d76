-- Move one copy to its next state, with what was observed (the copy's hash, or why it failed).
UPDATE :"tool.storage_transfers"
SET state = %(state)s, dest_sha256 = coalesce(%(dest_sha256)s, dest_sha256), detail = %(detail)s,
    updated_at = clock_timestamp()
WHERE source_bucket = %(source_bucket)s AND source_name = %(source_name)s AND dest_name = %(dest_name)s
