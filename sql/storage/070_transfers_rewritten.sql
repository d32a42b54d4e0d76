-- Verified copies none of whose references is still waiting or failed: their rewriting is done
-- (a copy with a failed reference keeps its source, which that reference still names).
UPDATE :"tool.storage_transfers" AS t SET state = 'rewritten', updated_at = clock_timestamp()
WHERE t.state = 'verified'
  AND NOT EXISTS (SELECT FROM :"tool.storage_rewrites" AS r
                  WHERE (r.source_bucket, r.source_name, r.dest_name) = (t.source_bucket, t.source_name, t.dest_name)
                    AND r.state IN ('planned', 'failed'))
