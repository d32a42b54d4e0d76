-- INSERT / UPDATE / ALL policies without an explicit WITH CHECK: an UPDATE policy then reuses
-- USING for new rows (a row can be moved anywhere USING still sees), an INSERT policy checks nothing.
SELECT format('%%I.%%I: %%s', p.schemaname, p.tablename, p.policyname) AS object,
       format('FOR %%s policy has no WITH CHECK', p.cmd) AS message,
       coalesce('USING (' || p.qual || ')', '') AS detail
FROM pg_policies AS p
WHERE p.cmd IN ('ALL', 'INSERT', 'UPDATE') AND p.with_check IS NULL
  AND p.schemaname <> ALL (%(ignored_schemas)s)
ORDER BY 1
