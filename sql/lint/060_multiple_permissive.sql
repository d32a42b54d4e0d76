-- Several permissive policies for the same table, role and action: each is evaluated for
-- every row (they are OR-ed), and the effective rule is harder to review.
WITH expanded AS (
  SELECT p.schemaname, p.tablename, p.policyname, role,
         unnest(CASE WHEN p.cmd = 'ALL' THEN ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] ELSE ARRAY[p.cmd] END)
           AS action
  FROM pg_policies AS p
  CROSS JOIN LATERAL unnest(CASE WHEN p.roles = '{public}' THEN %(api_roles)s::name[] ELSE p.roles END) AS role
  WHERE p.permissive = 'PERMISSIVE' AND p.schemaname <> ALL (%(ignored_schemas)s)
)
SELECT format('%%I.%%I: %%s for %%s', schemaname, tablename, action, role) AS object,
       format('%%s permissive policies for %%s on %%s', count(*), role, action) AS message,
       string_agg(policyname, ', ' ORDER BY policyname) AS detail
FROM expanded
WHERE role = ANY (%(api_roles)s::name[])
GROUP BY schemaname, tablename, action, role
HAVING count(*) > 1
ORDER BY 1
