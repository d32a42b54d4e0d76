-- Rows SET NOT NULL would reject: the column is NULL. Exact count and a bounded sample.
SELECT count(*) OVER () AS violations,
       t.:"key"::text AS row_key,
       NULL::text AS value
FROM :"table" AS t
WHERE t.:"column" IS NULL
ORDER BY t.:"key"
LIMIT %(sample)s;
