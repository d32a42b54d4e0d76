-- chat_sessions as the newer app left them: the sessions of legacy conversations it already
-- dual-wrote into or that voice notes point at (a booking's has the booking's id, a pair's the
-- id merge derives), and its own new sessions (k).
INSERT INTO public.chat_sessions (id, participants, type, booking_id, status, created_at, last_message_at)
WITH mirrored AS (
  SELECT p.session_key AS id, p.created_at FROM seed_message_plan AS p WHERE p.dual_written
  UNION ALL
  SELECT v.session_key, v.created_at FROM seed_voice_plan AS v
  WHERE v.dual_written OR v.in_direct_session
),
spans AS (
  SELECT m.id, min(m.created_at) AS first_at, max(m.created_at) AS last_at
  FROM mirrored AS m
  GROUP BY m.id
),
pairs AS (
  SELECT DISTINCT ON (session_id) session_id, a_id, b_id FROM seed_pairs ORDER BY session_id, p
)
SELECT s.id,
       CASE WHEN b.id IS NOT NULL THEN ARRAY[b.user_id, b.reader_id]
            ELSE ARRAY[least(pr.a_id, pr.b_id), greatest(pr.a_id, pr.b_id)] END,
       CASE WHEN b.id IS NOT NULL THEN 'booking' ELSE 'direct' END,
       b.id,
       CASE WHEN b.id IS NOT NULL THEN coalesce(%(booking_status)s::jsonb ->> b.status, 'active') ELSE 'active' END,
       coalesce(b.created_at, s.first_at),
       s.last_at
FROM spans AS s
LEFT JOIN seed_bookings AS b ON b.id = s.id AND NOT b.deleted
LEFT JOIN pairs AS pr ON pr.session_id = s.id
UNION ALL
SELECT a.session_id, ARRAY[least(a.a_id, a.b_id), greatest(a.a_id, a.b_id)], 'direct', NULL, 'active',
       min(a.created_at), max(a.created_at)
FROM seed_app_plan AS a
GROUP BY a.session_id, a.a_id, a.b_id
