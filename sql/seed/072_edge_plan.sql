-- l, m, n, o: a few messages after the N planned ones, as no schema would have let the legacy
-- app write them: in the incomplete bookings (042); without created_at; with metadata that is a
-- bare JSON string, number, boolean, null or array, or nested 1,000 levels deep around a URL;
-- with a URL of 100 KB (to a missing object, or to a real one with a 100 KB query). The others
-- are in bookings 1..12, never a deleted one; their files are new objects of their own.
CREATE TEMPORARY TABLE seed_edge_plan AS
WITH planned (n, kind, booking_kind) AS (VALUES
  (1, 'no_reader', 'no_reader'), (2, 'no_reader', 'no_reader'),
  (3, 'self', 'self'), (4, 'self', 'self'),
  (5, 'no_participants', 'no_participants'),
  (6, 'no_created_at', 'planned'), (7, 'no_created_at', 'planned'), (8, 'no_created_at', 'planned'),
  (9, 'json_string', 'planned'), (10, 'json_number', 'planned'), (11, 'json_boolean', 'planned'),
  (12, 'json_null', 'planned'), (13, 'json_array', 'planned'), (14, 'json_deep', 'planned'),
  (15, 'long_path', 'planned'), (16, 'long_query', 'planned')
),
placed AS (
  SELECT p.n, p.kind,
         pg_temp.seed_uuid(%(seed)s, 'edge-message', p.n) AS id,
         coalesce(e.id, b.id) AS booking_id,
         coalesce(e.user_id, b.user_id, w.id) AS sender_id,
         coalesce(e.created_at, b.created_at) + make_interval(mins => p.n) AS at,
         substr(md5(%(seed)s || ':upload:edge:' || p.n), 1, 12) AS upload_key
  FROM planned AS p
  LEFT JOIN seed_edge_bookings AS e ON e.kind = p.booking_kind
  LEFT JOIN seed_bookings AS b
    ON p.booking_kind = 'planned' AND b.j = 1 + mod(p.n, least(%(bookings)s::int, 12))
  -- the writer in the booking with neither user nor reader
  LEFT JOIN seed_users AS w ON w.i = 7
  WHERE p.n <= %(edge_messages)s
),
filed AS (
  SELECT pl.*,
         pl.sender_id::text || '/' || pl.upload_key || '/'
           || CASE WHEN pl.kind = 'long_path' THEN repeat('a', 100000) ELSE 'edge-' || pl.n END || '.png'
           AS name
  FROM placed AS pl
)
SELECT f.n, f.kind, f.id, f.booking_id, f.sender_id, f.upload_key, f.name,
       CASE WHEN f.kind = 'no_created_at' THEN NULL ELSE f.at END AS created_at,
       f.at AS object_created_at,
       f.kind IN ('json_string', 'json_array', 'json_deep', 'long_path', 'long_query') AS has_file,
       %(project_url)s || '/storage/v1/object/public/chat-attachments/' || f.name AS public_url
FROM filed AS f
