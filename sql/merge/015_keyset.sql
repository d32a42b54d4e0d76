-- The next keyset batch of the source in primary-key order: after a part's high-water mark, up to
-- the part's upper bound.
WHERE :"alias".:"source.id" >= %(low)s AND (:"alias".:"source.id" > %(low)s OR %(inclusive)s)
  AND :"alias".:"source.id" <= %(high)s
  -- Rows whose changes were captured are the forwarder's (017), never a batch's.
  AND NOT EXISTS (SELECT 1 FROM :"tool.capture_log" AS cl
                  WHERE cl.source_table = :'source_table' AND cl.source_id = :"alias".:"source.id")
ORDER BY :"alias".:"source.id"
LIMIT %(batch_size)s
