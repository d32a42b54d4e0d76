-- Source rows changed or deleted since merge recorded their fate (their checksum then and now).
WITH fates AS (
  SELECT source_table, source_id, source_checksum FROM :"tool.provenance"
  UNION ALL SELECT source_table, source_id, source_checksum FROM :"tool.quarantine"
  UNION ALL SELECT source_table, source_id, source_checksum FROM :"tool.excluded"
)
SELECT f.source_table, f.source_id::text,
       CASE WHEN m.:"messages.id" IS NULL AND v.:"voice_notes.id" IS NULL THEN 'source row was deleted after merge'
            ELSE 'source row changed after merge (checksum differs)' END
FROM fates AS f
LEFT JOIN :"messages" AS m ON f.source_table = 'messages' AND m.:"messages.id" = f.source_id
LEFT JOIN :"voice_notes" AS v ON f.source_table = 'voice_notes' AND v.:"voice_notes.id" = f.source_id
WHERE CASE f.source_table WHEN 'messages' THEN md5(m::text) ELSE md5(v::text) END
      IS DISTINCT FROM f.source_checksum
ORDER BY 1, 2;
