-- Source rows with no fate: neither migrated/linked, quarantined nor excluded.
WITH sources AS (
  SELECT 'messages' AS source_table, m.:"messages.id" AS source_id FROM :"messages" AS m
  UNION ALL
  SELECT 'voice_notes', v.:"voice_notes.id" FROM :"voice_notes" AS v
)
SELECT s.source_table, s.source_id::text, 'has no fate (not migrated, linked, quarantined or excluded)'
FROM sources AS s
WHERE NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p WHERE (p.source_table, p.source_id) = (s.source_table, s.source_id))
  AND NOT EXISTS (SELECT 1 FROM :"tool.quarantine" AS q WHERE (q.source_table, q.source_id) = (s.source_table, s.source_id))
  AND NOT EXISTS (SELECT 1 FROM :"tool.excluded" AS e WHERE (e.source_table, e.source_id) = (s.source_table, s.source_id))
ORDER BY 1, 2;
