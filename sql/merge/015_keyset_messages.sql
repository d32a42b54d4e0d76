-- The next keyset batch of `messages` in primary-key order: after a part's high-water mark, up to
-- the part's upper bound. In a sweep pass (after the keyset pass reached the part's end) only
-- rows without a fate yet: rows written behind the mark while the merge ran.
WHERE m.:"messages.id" >= %(low)s AND (m.:"messages.id" > %(low)s OR %(inclusive)s)
  AND m.:"messages.id" <= %(high)s
  -- Rows whose changes were captured are the forwarder's (016/018), never a batch's.
  AND NOT EXISTS (SELECT 1 FROM :"tool.capture_log" AS cl
                  WHERE cl.source_table = 'messages' AND cl.source_id = m.:"messages.id")
  AND (NOT %(sweep)s OR (
    NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                WHERE p.source_table = 'messages' AND p.source_id = m.:"messages.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.quarantine" AS q
                    WHERE q.source_table = 'messages' AND q.source_id = m.:"messages.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.excluded" AS e
                    WHERE e.source_table = 'messages' AND e.source_id = m.:"messages.id")))
ORDER BY m.:"messages.id"
LIMIT %(batch_size)s
