-- Permissive write policies that let every row through: USING (true) / WITH CHECK (true).
SELECT format('%%I.%%I: %%s', p.schemaname, p.tablename, p.policyname) AS object,
       format('FOR %%s policy is %%s for %%s', p.cmd,
              concat_ws(' and ', CASE WHEN p.qual = 'true' THEN 'USING (true)' END,
                        CASE WHEN p.with_check = 'true' THEN 'WITH CHECK (true)' END),
              array_to_string(p.roles, ', ')) AS message,
       coalesce(p.qual, '') || ' / ' || coalesce(p.with_check, '') AS detail
FROM pg_policies AS p
WHERE p.permissive = 'PERMISSIVE' AND p.cmd IN ('ALL', 'INSERT', 'UPDATE', 'DELETE')
  AND (p.qual = 'true' OR p.with_check = 'true')
  AND p.schemaname <> ALL (%(ignored_schemas)s)
ORDER BY 1
