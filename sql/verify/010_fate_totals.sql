-- Every fate recorded so far, keyed "<source>.<fate>[.<reason>]".
SELECT source_table || '.' || fate, count(*) FROM :"tool.provenance" GROUP BY source_table, fate
UNION ALL
SELECT source_table || '.quarantined.' || reason, count(*) FROM :"tool.quarantine" GROUP BY source_table, reason
UNION ALL
SELECT source_table || '.excluded.' || reason, count(*) FROM :"tool.excluded" GROUP BY source_table, reason
UNION ALL
SELECT 'sessions_created', count(*) FROM :"tool.session_changes" WHERE action = 'created'
ORDER BY 1;
