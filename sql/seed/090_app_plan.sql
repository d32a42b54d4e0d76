-- k: conversations the newer app started in chat_sessions / chat_messages after the legacy
-- period (2025), with no legacy counterpart: max(2, U/4) direct sessions of 6 messages, the
-- fourth with a file already in chat-files, the third replying to the second.
CREATE TEMPORARY TABLE seed_app_plan AS
WITH sessions AS (
  SELECT s,
         pg_temp.seed_uuid(%(seed)s, 'app-session', s) AS session_id,
         pg_temp.seed_uuid(%(seed)s, 'user', a) AS a_id,
         pg_temp.seed_uuid(%(seed)s, 'user', 1 + mod(a + pg_temp.seed_int(%(seed)s, 'app-pair-b', s, %(users)s::int - 1), %(users)s::int)) AS b_id,
         timestamptz '2025-01-06 00:00:00+00'
           + make_interval(secs => pg_temp.seed_int(%(seed)s, 'app-session-start', s, 60 * 86400)) AS started_at
  FROM generate_series(1, greatest(2, %(users)s::int / 4)) AS s
  CROSS JOIN LATERAL (SELECT 1 + pg_temp.seed_int(%(seed)s, 'app-pair-a', s, %(users)s::int) AS a) AS first
)
SELECT s.s, s.session_id, s.a_id, s.b_id, pos, (s.s - 1) * 6 + pos AS n,
       pg_temp.seed_uuid(%(seed)s, 'app-message', (s.s - 1) * 6 + pos) AS id,
       CASE WHEN pos = 3 THEN pg_temp.seed_uuid(%(seed)s, 'app-message', (s.s - 1) * 6 + pos - 1) END AS reply_to,
       CASE WHEN pg_temp.seed_int(%(seed)s, 'app-sender', (s.s - 1) * 6 + pos, 2) = 0 THEN s.a_id ELSE s.b_id END AS sender_id,
       s.started_at + make_interval(mins => pos * 7) AS created_at
FROM sessions AS s
CROSS JOIN generate_series(1, 6) AS pos
