-- The next keyset batch of `messages` in primary-key order: after a part's high-water mark, up to
-- the part's upper bound.
WHERE m.:"messages.id" >= %(low)s AND (m.:"messages.id" > %(low)s OR %(inclusive)s)
  AND m.:"messages.id" <= %(high)s
  -- Rows whose changes were captured are the forwarder's (016/018), never a batch's.
  AND NOT EXISTS (SELECT 1 FROM :"tool.capture_log" AS cl
                  WHERE cl.source_table = 'messages' AND cl.source_id = m.:"messages.id")
ORDER BY m.:"messages.id"
LIMIT %(batch_size)s
