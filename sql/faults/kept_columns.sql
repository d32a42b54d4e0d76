-- A table's columns that hold the work, leaving out those filled in at write time (a default
-- matching %(stamped)s: a clock, a sequence, a random id) and the run's own numbering.
SELECT a.attname
FROM pg_attribute AS a
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = format('%%I.%%I', %(schema)s::text, %(table)s::text)::regclass
  AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attname <> ALL (%(numbering)s)
  AND coalesce(pg_get_expr(d.adbin, d.adrelid), '') !~* %(stamped)s
ORDER BY a.attnum;
