-- Which columns of a table are NOT NULL.
SELECT a.attname::text, a.attnotnull
FROM pg_attribute AS a
WHERE a.attrelid = %(table)s::regclass
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum;
