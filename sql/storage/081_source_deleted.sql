-- Every copy of a source whose object is now gone.
UPDATE :"tool.storage_transfers" SET state = 'source_deleted', updated_at = clock_timestamp()
WHERE source_bucket = %(source_bucket)s AND source_name = %(source_name)s AND state = 'rewritten'
