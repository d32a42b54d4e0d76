-- Who says what in messages 1..N, and when. Messages come in bursts of up to 8 in one
-- conversation: 25%% of bursts are a direct pair (both directions), the rest a booking
-- (sometimes a deleted one). Scheduled single rows carry the sender/session anomalies; some
-- bursts have two messages at the same instant, some were dual-written by the newer app, some
-- upload two different files of the same name.
CREATE TEMPORARY TABLE seed_message_plan AS
WITH bursts AS (
  SELECT burst,
         pg_temp.seed_int(%(seed)s, 'burst-kind', burst, 100) < 25 AS is_direct,
         1 + pg_temp.seed_int(%(seed)s, 'burst-booking', burst, %(bookings)s::int) AS booking_no,
         1 + pg_temp.seed_int(%(seed)s, 'burst-pair', burst, %(users)s::int) AS pair_no,
         pg_temp.seed_time(%(seed)s, 'burst-start', burst, 360 * 86400) AS started_at,
         5 + pg_temp.seed_int(%(seed)s, 'burst-gap', burst, 900) AS gap_seconds,
         mod(burst, 37) = 3 OR pg_temp.seed_int(%(seed)s, 'burst-tie', burst, 100) < 4 AS has_tie,
         mod(burst, 41) = 2 OR pg_temp.seed_int(%(seed)s, 'burst-dual', burst, 100) < 3 AS dual_written,
         mod(burst, 53) = 7 AS repeats_file_name
  FROM generate_series(0, (%(messages)s::bigint - 1) / 8) AS burst
),
slots AS (
  SELECT b.*, k, b.burst * 8 + k + 1 AS n
  FROM bursts AS b
  CROSS JOIN generate_series(0, 7) AS k
  WHERE b.burst * 8 + k + 1 <= %(messages)s::bigint
),
placed AS (
  SELECT s.n, s.burst, s.k, s.is_direct, s.dual_written, s.repeats_file_name AND s.k < 2 AS repeats_file_name,
         CASE WHEN s.is_direct THEN p.a_id ELSE b.user_id END AS first_party,
         CASE WHEN s.is_direct THEN p.b_id ELSE b.reader_id END AS second_party,
         CASE WHEN s.is_direct THEN NULL ELSE b.id END AS booking_id,
         NOT s.is_direct AND b.deleted AS booking_deleted,
         CASE WHEN s.is_direct THEN p.session_id ELSE b.id END AS session_key,
         s.started_at + make_interval(secs => (CASE WHEN s.has_tie AND s.k >= 2 THEN s.k - 1 ELSE s.k END)
                                              * s.gap_seconds) AS created_at,
         -- j: NULL or empty text, and a few contents of 1 MB or more
         CASE WHEN mod(s.n, 250007) = 5 THEN 'huge'
              WHEN mod(s.n, 307) = 11 THEN 'null'
              WHEN mod(s.n, 311) = 13 THEN 'empty' END AS content_anomaly,
         -- b: neither booking nor recipient; d: a sender in neither profiles nor auth.users
         CASE WHEN mod(s.n, 211) = 17 THEN 'no_session'
              WHEN mod(s.n, 227) = 29 THEN 'ghost_sender' END AS row_anomaly,
         (s.repeats_file_name AND s.k < 2) OR pg_temp.seed_int(%(seed)s, 'attach', s.n, 100) < 4 AS wants_file,
         pg_temp.seed_int(%(seed)s, 'sender', s.n, 2) = 0 AS first_speaks,
         pg_temp.seed_int(%(seed)s, 'recipient', s.n, 10) < 3 AS names_recipient
  FROM slots AS s
  LEFT JOIN seed_bookings AS b ON b.j = s.booking_no
  LEFT JOIN seed_pairs AS p ON p.p = s.pair_no
)
SELECT pl.n,
       pg_temp.seed_uuid(%(seed)s, 'message', pl.n) AS id,
       pl.burst, pl.k, pl.is_direct, pl.booking_deleted, pl.content_anomaly, pl.row_anomaly,
       CASE WHEN pl.row_anomaly = 'no_session' THEN NULL ELSE pl.booking_id END AS booking_id,
       CASE WHEN pl.row_anomaly = 'ghost_sender'
              THEN pg_temp.seed_uuid(%(seed)s, 'ghost', mod(pl.n, 5))
            WHEN pl.first_speaks OR pl.repeats_file_name THEN pl.first_party
            ELSE pl.second_party END AS sender_id,
       CASE WHEN pl.row_anomaly = 'no_session' THEN NULL
            WHEN pl.is_direct OR pl.names_recipient THEN
              CASE WHEN pl.first_speaks OR pl.repeats_file_name THEN pl.second_party ELSE pl.first_party END
       END AS recipient_id,
       CASE WHEN pl.row_anomaly = 'no_session' THEN NULL ELSE pl.session_key END AS session_key,
       pl.created_at,
       pl.wants_file AND pl.content_anomaly IS NULL AS has_file,
       pl.repeats_file_name AND pl.content_anomaly IS NULL AS repeats_file_name,
       pl.dual_written AND pl.row_anomaly IS NULL AND NOT pl.booking_deleted
         AND pl.content_anomaly IS DISTINCT FROM 'huge' AS dual_written
FROM placed AS pl
