-- Voice notes 1..M and their context: 50%% a booking's chat, 10%% an existing direct chat
-- session, the rest contexts that are not chats (booking, profile, reading). Every 199th from
-- #3 comes from a sender in neither profiles nor auth.users; every 37th chat note from #4 was
-- dual-written by the newer app.
CREATE TEMPORARY TABLE seed_voice_plan AS
WITH drawn AS (
  SELECT v,
         pg_temp.seed_int(%(seed)s, 'voice-context', v, 100) AS context_roll,
         1 + pg_temp.seed_int(%(seed)s, 'voice-booking', v, %(bookings)s::int) AS booking_no,
         1 + pg_temp.seed_int(%(seed)s, 'voice-pair', v, %(users)s::int) AS pair_no,
         pg_temp.seed_int(%(seed)s, 'voice-speaker', v, 2) = 0 AS first_speaks
  FROM generate_series(1, %(voice_notes)s::int) AS v
),
placed AS (
  SELECT d.v,
         CASE WHEN d.context_roll < 60 THEN 'chat' WHEN d.context_roll < 75 THEN 'booking'
              WHEN d.context_roll < 90 THEN 'profile' ELSE 'reading' END AS context_type,
         CASE WHEN d.context_roll >= 50 AND d.context_roll < 60 THEN p.session_id
              WHEN d.context_roll >= 75 AND d.context_roll < 90 THEN b.reader_id
              WHEN d.context_roll >= 90 THEN pg_temp.seed_uuid(%(seed)s, 'reading', d.v)
              ELSE b.id END AS context_id,
         CASE WHEN d.context_roll >= 50 AND d.context_roll < 60 THEN
                CASE WHEN d.first_speaks THEN p.a_id ELSE p.b_id END
              WHEN d.context_roll >= 75 AND d.context_roll < 90 THEN b.reader_id
              WHEN d.first_speaks THEN b.user_id ELSE b.reader_id END AS speaker_id,
         d.context_roll < 50 AND b.deleted AS booking_deleted,
         d.context_roll >= 50 AND d.context_roll < 60 AS in_direct_session,
         CASE WHEN d.context_roll < 50 THEN b.created_at
                + make_interval(secs => pg_temp.seed_int(%(seed)s, 'voice-offset', d.v, 20 * 86400))
              ELSE pg_temp.seed_time(%(seed)s, 'voice-created', d.v, 360 * 86400) END AS created_at
  FROM drawn AS d
  LEFT JOIN seed_bookings AS b ON b.j = d.booking_no
  LEFT JOIN seed_pairs AS p ON p.p = d.pair_no
)
SELECT pl.v,
       pg_temp.seed_uuid(%(seed)s, 'voice-note', pl.v) AS id,
       CASE WHEN mod(pl.v, 199) = 3 THEN pg_temp.seed_uuid(%(seed)s, 'ghost', mod(pl.v, 5))
            ELSE pl.speaker_id END AS user_id,
       pl.context_type, pl.context_id, pl.created_at, pl.in_direct_session,
       CASE WHEN pl.context_type = 'chat' AND NOT pl.booking_deleted THEN pl.context_id END AS session_key,
       round(1 + pg_temp.seed_int(%(seed)s, 'voice-duration', pl.v, 1800) / 10.0, 2) AS duration_seconds,
       pl.context_type = 'chat' AND mod(pl.v, 37) = 4 AND mod(pl.v, 199) <> 3
         AND NOT pl.booking_deleted AS dual_written
FROM placed AS pl
