-- Sources every copy of which is verified and rewritten (and none already deleted or failed).
SELECT source_bucket, source_name
FROM :"tool.storage_transfers"
GROUP BY source_bucket, source_name
HAVING bool_and(state = 'rewritten')
ORDER BY source_bucket, source_name
