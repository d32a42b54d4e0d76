-- Backup schemas of runs killed after their transaction committed, before their journal record
-- was finished (left running, or marked interrupted by the next run): never listed as
-- backups, so the next backup replaces them.
SELECT r.details ->> 'schema'
FROM :"tool.phase_records" AS r
WHERE r.phase = 'backup' AND r.action = 'apply' AND r.status IN ('running', 'interrupted', 'failed')
  AND starts_with(r.details ->> 'schema', %(prefix)s)
  AND to_regnamespace(quote_ident(r.details ->> 'schema')) IS NOT NULL
ORDER BY r.id;
