-- The next keyset batch of `voice_notes` in primary-key order: after a part's high-water mark, up to
-- the part's upper bound.
WHERE v.:"voice_notes.id" >= %(low)s AND (v.:"voice_notes.id" > %(low)s OR %(inclusive)s)
  AND v.:"voice_notes.id" <= %(high)s
  -- Rows whose changes were captured are the forwarder's (016/018), never a batch's.
  AND NOT EXISTS (SELECT 1 FROM :"tool.capture_log" AS cl
                  WHERE cl.source_table = 'voice_notes' AND cl.source_id = v.:"voice_notes.id")
ORDER BY v.:"voice_notes.id"
LIMIT %(batch_size)s
