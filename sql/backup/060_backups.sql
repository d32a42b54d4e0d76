-- Completed backups, newest first, with whether their schema still exists.
SELECT r.id, r.details ->> 'schema', to_regnamespace(quote_ident(r.details ->> 'schema')) IS NOT NULL,
       coalesce((r.details ->> 'verified')::boolean, false), r.finished_at
FROM :"tool.phase_records" AS r
WHERE r.phase = 'backup' AND r.action = 'apply' AND r.status = 'completed'
ORDER BY r.id DESC;
