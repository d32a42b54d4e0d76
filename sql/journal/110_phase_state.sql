-- One phase's standing, by the one rule every order guard uses: the newest completed apply
-- that no later completed rollback undid; an apply or rollback left unfinished after the newest
-- completed record of either (killed, failed, interrupted); and the newest verdict on the
-- applied work (a 'verify' record after that apply), with its findings per check.
WITH applied AS (
  SELECT max(id) AS id FROM :"tool.phase_records"
  WHERE phase = %(phase)s AND action = 'apply' AND status = 'completed'
), undone AS (
  SELECT max(id) AS id FROM :"tool.phase_records"
  WHERE phase = %(phase)s AND action = 'rollback' AND status = 'completed'
), standing AS (
  SELECT CASE WHEN a.id > coalesce(u.id, 0) THEN a.id END AS id,
         greatest(coalesce(a.id, 0), coalesce(u.id, 0)) AS settled
  FROM applied AS a, undone AS u
)
SELECT s.id,
       (SELECT r.action || ' ' || r.status FROM :"tool.phase_records" AS r
        WHERE r.phase = %(phase)s AND r.action IN ('apply', 'rollback') AND r.status <> 'completed'
          AND r.id > s.settled
        ORDER BY r.id DESC LIMIT 1),
       v.id, v.counts
FROM standing AS s
LEFT JOIN LATERAL (
  SELECT r.id, r.counts FROM :"tool.phase_records" AS r
  WHERE r.phase = %(phase)s AND r.action = 'verify' AND r.status = 'completed' AND r.id > s.id
  ORDER BY r.id DESC LIMIT 1
) AS v ON true;
