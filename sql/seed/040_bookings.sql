-- Bookings 1..B between a user and a reader; every 29th (from #13) was deleted since, but the
-- messages written in it remain.
CREATE TEMPORARY TABLE seed_bookings AS
SELECT j,
       pg_temp.seed_uuid(%(seed)s, 'booking', j) AS id,
       -- the k-th user who is not a reader is user number (k / 3) * 4 + k %% 3 + 1
       pg_temp.seed_uuid(%(seed)s, 'user', (k / 3) * 4 + mod(k, 3) + 1) AS user_id,
       pg_temp.seed_uuid(%(seed)s, 'user', 4 * (1 + pg_temp.seed_int(%(seed)s, 'booking-reader', j, %(users)s::int / 4))) AS reader_id,
       CASE WHEN s < 10 THEN 'pending' WHEN s < 35 THEN 'active'
            WHEN s < 90 THEN 'completed' ELSE 'cancelled' END AS status,
       pg_temp.seed_time(%(seed)s, 'booking-created', j, 330 * 86400) AS created_at,
       mod(j, 29) = 13 AS deleted
FROM generate_series(1, %(bookings)s::int) AS j
CROSS JOIN LATERAL (
  SELECT pg_temp.seed_int(%(seed)s, 'booking-user', j, %(users)s::int - %(users)s::int / 4) AS k,
         pg_temp.seed_int(%(seed)s, 'booking-status', j, 100) AS s
) AS picked
