-- A sweep of a part of `messages`, once its keyset pass reached the part's end: the rows without a
-- fate yet (written behind the mark without being captured). The ids are found on the keys
-- alone (the primary key's index against the ledgers' keys), so only the rows found are read.
WHERE m.:"messages.id" IN (
  SELECT k.:"messages.id"
  FROM :"messages" AS k
  WHERE k.:"messages.id" >= %(low)s AND (k.:"messages.id" > %(low)s OR %(inclusive)s)
    AND k.:"messages.id" <= %(high)s
    AND NOT EXISTS (SELECT 1 FROM :"tool.capture_log" AS cl
                    WHERE cl.source_table = 'messages' AND cl.source_id = k.:"messages.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                    WHERE p.source_table = 'messages' AND p.source_id = k.:"messages.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.quarantine" AS q
                    WHERE q.source_table = 'messages' AND q.source_id = k.:"messages.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.excluded" AS e
                    WHERE e.source_table = 'messages' AND e.source_id = k.:"messages.id")
  ORDER BY k.:"messages.id"
  LIMIT %(batch_size)s
)
ORDER BY m.:"messages.id"
