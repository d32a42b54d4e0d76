-- Every copy the journal knows, with its state.
SELECT source_bucket, source_name, dest_bucket, dest_name, session_id, sender_id, state, detail
FROM :"tool.storage_transfers"
ORDER BY source_bucket, source_name, dest_name
