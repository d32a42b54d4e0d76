-- l: bookings the legacy app left incomplete, after the planned ones (042-043 and 072-074 add
-- them only to datasets large enough, inside the sizes asked for): one without a reader,
-- one whose user is also its reader, one with neither (its messages have no one to be shown to).
CREATE TEMPORARY TABLE seed_edge_bookings AS
SELECT e.kind,
       pg_temp.seed_uuid(%(seed)s, 'edge-booking', e.n) AS id,
       CASE WHEN e.kind = 'no_participants' THEN NULL ELSE u.id END AS user_id,
       CASE WHEN e.kind = 'self' THEN u.id END AS reader_id,
       pg_temp.seed_time(%(seed)s, 'edge-booking-created', e.n, 330 * 86400) AS created_at
FROM (VALUES (1, 'no_reader'), (2, 'self'), (3, 'no_participants')) AS e (n, kind)
-- users 5, 6 and 7 are plain users with a profile whatever the seed's size (at least 8 users)
JOIN seed_users AS u ON u.i = 4 + e.n
WHERE e.n <= %(edge_bookings)s
