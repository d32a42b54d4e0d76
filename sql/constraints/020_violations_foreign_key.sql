-- Rows VALIDATE CONSTRAINT would reject for a foreign key: a value that names no row of the
-- referenced table. One scan gives the exact count (window) and a bounded sample.
SELECT count(*) OVER () AS violations,
       t.:"key"::text AS row_key,
       t.:"column"::text AS value
FROM :"table" AS t
WHERE t.:"column" IS NOT NULL
  AND NOT EXISTS (
    SELECT FROM :"referenced" AS r WHERE r.:"referenced_column" = t.:"column"
  )
ORDER BY t.:"key"
LIMIT %(sample)s;
