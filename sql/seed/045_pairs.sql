-- Direct-message pairs 1..U (two distinct users each), with the session merge derives for them.
CREATE TEMPORARY TABLE seed_pairs AS
SELECT p, a_id, b_id, pg_temp.seed_direct_session(%(namespace)s::uuid, a_id, b_id) AS session_id
FROM (
  SELECT p,
         pg_temp.seed_uuid(%(seed)s, 'user', a) AS a_id,
         pg_temp.seed_uuid(%(seed)s, 'user', 1 + mod(a + pg_temp.seed_int(%(seed)s, 'pair-b', p, %(users)s::int - 1), %(users)s::int)) AS b_id
  FROM generate_series(1, %(users)s::int) AS p
  CROSS JOIN LATERAL (SELECT 1 + pg_temp.seed_int(%(seed)s, 'pair-a', p, %(users)s::int) AS a) AS first
) AS chosen
