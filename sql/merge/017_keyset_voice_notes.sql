-- The next keyset batch of `voice_notes` in primary-key order: after a part's high-water mark, up to
-- the part's upper bound. In a sweep pass (after the keyset pass reached the part's end) only
-- rows without a fate yet: rows written behind the mark while the merge ran.
WHERE v.:"voice_notes.id" >= %(low)s AND (v.:"voice_notes.id" > %(low)s OR %(inclusive)s)
  AND v.:"voice_notes.id" <= %(high)s
  -- Rows whose changes were captured are the forwarder's (016/018), never a batch's.
  AND NOT EXISTS (SELECT 1 FROM :"tool.capture_log" AS cl
                  WHERE cl.source_table = 'voice_notes' AND cl.source_id = v.:"voice_notes.id")
  AND (NOT %(sweep)s OR (
    NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                WHERE p.source_table = 'voice_notes' AND p.source_id = v.:"voice_notes.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.quarantine" AS q
                    WHERE q.source_table = 'voice_notes' AND q.source_id = v.:"voice_notes.id")
    AND NOT EXISTS (SELECT 1 FROM :"tool.excluded" AS e
                    WHERE e.source_table = 'voice_notes' AND e.source_id = v.:"voice_notes.id")))
ORDER BY v.:"voice_notes.id"
LIMIT %(batch_size)s
