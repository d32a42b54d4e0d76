-- A source row with more than one fate (each ledger alone has one row per source row), and a
-- chat message claimed by more than one source row.
WITH fates AS (
  SELECT source_table, source_id, fate FROM :"tool.provenance"
  UNION ALL SELECT source_table, source_id, 'quarantined' FROM :"tool.quarantine"
  UNION ALL SELECT source_table, source_id, 'excluded' FROM :"tool.excluded"
)
SELECT source_table, source_id::text, 'has several fates: ' || string_agg(fate, ', ' ORDER BY fate)
FROM fates
GROUP BY source_table, source_id
HAVING count(*) > 1
UNION ALL
SELECT min(source_table), min(source_id::text),
       'chat message ' || chat_message_id || ' is the fate of ' || count(*) || ' source rows'
FROM :"tool.provenance"
GROUP BY chat_message_id
HAVING count(*) > 1
ORDER BY 1, 2;
