-- A sweep of a part of the source, once its keyset pass reached the part's end: the rows without a
-- fate yet (written behind the mark without being captured). The ids are found on the keys
-- alone (the primary key's index against the ledgers' keys), so only the rows found are read.
WHERE :"alias".:"source.id" IN (
  SELECT k.:"source.id"
  FROM :"source" AS k
  WHERE k.:"source.id" >= %(low)s AND (k.:"source.id" > %(low)s OR %(inclusive)s)
    AND k.:"source.id" <= %(high)s
    AND NOT EXISTS (SELECT 1 FROM :"tool.capture_log" AS cl
                    WHERE cl.source_table = :'source_table' AND cl.source_id = k.:"source.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                    WHERE p.source_table = :'source_table' AND p.source_id = k.:"source.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.quarantine" AS q
                    WHERE q.source_table = :'source_table' AND q.source_id = k.:"source.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.excluded" AS e
                    WHERE e.source_table = :'source_table' AND e.source_id = k.:"source.id")
  ORDER BY k.:"source.id"
  LIMIT %(batch_size)s
)
ORDER BY :"alias".:"source.id"
