-- auth.uid() / auth.jwt() / auth.role() / auth.email() called directly in a policy are
-- evaluated for every row; wrapped as (select auth.uid()) they run once per statement.
SELECT format('%%I.%%I: %%s', p.schemaname, p.tablename, p.policyname) AS object,
       format('%%s call(s) to auth.*() not wrapped in a sub-select', e.bare) AS message,
       e.expression AS detail
FROM pg_policies AS p
CROSS JOIN LATERAL (SELECT concat_ws(' / ', p.qual, p.with_check) AS expression) AS x
CROSS JOIN LATERAL (
  SELECT x.expression,
         (SELECT count(*) FROM regexp_matches(x.expression, 'auth\.(uid|jwt|role|email)\(\)', 'g'))
         - (SELECT count(*) FROM regexp_matches(x.expression, 'SELECT auth\.(uid|jwt|role|email)\(\)', 'gi'))
           AS bare
) AS e
WHERE e.bare > 0 AND p.schemaname <> ALL (%(ignored_schemas)s)
ORDER BY 1
