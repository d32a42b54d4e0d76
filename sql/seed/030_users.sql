-- Users 1..U: #1 super_admin, #2 admin, every 4th a reader, the rest users; every 25th (from #19) signed
-- up but never got a profile row (auth.users only).
CREATE TEMPORARY TABLE seed_users AS
SELECT i,
       pg_temp.seed_uuid(%(seed)s, 'user', i) AS id,
       CASE WHEN i = 1 THEN 'super_admin' WHEN i = 2 THEN 'admin'
            WHEN mod(i, 4) = 0 THEN 'reader' ELSE 'user' END AS role,
       mod(i, 25) <> 19 AS has_profile,
       (ARRAY['Ana', 'Ben', 'Chloé', 'Dmitri', 'Émile', 'Fatima', 'Grace', 'Hiroshi', 'Inès',
              'Jonas', 'Kateřina', 'Liam', 'María', 'Noah', 'Olga', 'Pedro', 'Quinn', 'Raj',
              'Søren', 'Tomás', 'Uma', 'Wei', 'Yara', 'Zoë'])[1 + pg_temp.seed_int(%(seed)s, 'user-name', i, 24)]
         || ' ' || chr(65 + pg_temp.seed_int(%(seed)s, 'user-initial', i, 26)::int) || '.' AS display_name,
       pg_temp.seed_time(%(seed)s, 'user-created', i, 30 * 86400) - interval '45 days' AS created_at
FROM generate_series(1, %(users)s::int) AS i
