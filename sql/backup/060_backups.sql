-- Completed backups, newest first, with whether they still exist (their manifest is there).
SELECT r.id, r.details ->> 'schema',
       to_regclass(format('%I.manifest', r.details ->> 'schema')) IS NOT NULL,
       coalesce((r.details ->> 'verified')::boolean, false), r.finished_at
FROM :"tool.phase_records" AS r
WHERE r.phase = 'backup' AND r.action = 'apply' AND r.status = 'completed'
ORDER BY r.id DESC;
