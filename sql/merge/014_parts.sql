-- At a source's first run its key range is cut into parts (one per worker) at evenly spaced
-- ranks of its primary key, read from the index; one high-water row per part. Later runs keep
-- the parts they started with.
WITH bounds AS (
  SELECT DISTINCT cut.bound
  FROM generate_series(1, %(parts)s - 1) AS k
  CROSS JOIN LATERAL (
    SELECT s.:"source.id" AS bound
    FROM :"source" AS s
    ORDER BY s.:"source.id"
    OFFSET (SELECT count(*) FROM :"source") * k / %(parts)s
    LIMIT 1
  ) AS cut
),
edges AS (
  SELECT b.bound FROM bounds AS b
  UNION ALL
  SELECT NULL::uuid  -- the last part is open-ended
)
INSERT INTO :"tool.high_water" (source_table, part, low_id, high_id)
SELECT %(source_table)s,
       row_number() OVER (ORDER BY e.bound NULLS LAST) - 1,
       lag(e.bound) OVER (ORDER BY e.bound NULLS LAST),
       e.bound
FROM edges AS e
WHERE NOT EXISTS (SELECT 1 FROM :"tool.high_water" AS hw WHERE hw.source_table = %(source_table)s);
