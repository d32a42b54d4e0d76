-- The indexes on the given tables: access method, key columns in order (with DESC where the
-- index sorts descending), partial predicate, and whether the index is valid (an interrupted
-- CREATE INDEX CONCURRENTLY leaves an invalid index behind, which serves no query).
SELECT tn.nspname::text AS table_schema,
       t.relname::text AS table_name,
       i.relname::text AS index_name,
       x.indisvalid,
       am.amname::text AS method,
       array(SELECT CASE WHEN k.attnum = 0 THEN '(expression)'
                         ELSE a.attname::text || CASE WHEN x.indoption[k.n - 1] & 1 = 1 THEN ' DESC' ELSE '' END
                    END
             FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k (attnum, n)
             LEFT JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
             WHERE k.n <= x.indnkeyatts
             ORDER BY k.n) AS keys,
       pg_get_expr(x.indpred, x.indrelid) AS predicate
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
JOIN pg_namespace AS tn ON tn.oid = t.relnamespace
JOIN pg_am AS am ON am.oid = i.relam
WHERE x.indrelid = ANY (%(tables)s::regclass[])
ORDER BY 1, 2, 3;
