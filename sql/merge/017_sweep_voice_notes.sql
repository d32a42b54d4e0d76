-- A sweep of a part of `voice_notes`, once its keyset pass reached the part's end: the rows without a
-- fate yet (written behind the mark without being captured). The ids are found on the keys
-- alone (the primary key's index against the ledgers' keys), so only the rows found are read.
WHERE v.:"voice_notes.id" IN (
  SELECT k.:"voice_notes.id"
  FROM :"voice_notes" AS k
  WHERE k.:"voice_notes.id" >= %(low)s AND (k.:"voice_notes.id" > %(low)s OR %(inclusive)s)
    AND k.:"voice_notes.id" <= %(high)s
    AND NOT EXISTS (SELECT 1 FROM :"tool.capture_log" AS cl
                    WHERE cl.source_table = 'voice_notes' AND cl.source_id = k.:"voice_notes.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                    WHERE p.source_table = 'voice_notes' AND p.source_id = k.:"voice_notes.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.quarantine" AS q
                    WHERE q.source_table = 'voice_notes' AND q.source_id = k.:"voice_notes.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.excluded" AS e
                    WHERE e.source_table = 'voice_notes' AND e.source_id = k.:"voice_notes.id")
  ORDER BY k.:"voice_notes.id"
  LIMIT %(batch_size)s
)
ORDER BY v.:"voice_notes.id"
