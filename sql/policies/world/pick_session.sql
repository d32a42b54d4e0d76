-- The probed session: two distinct participants with accounts and profiles, the first not an
-- admin (so a participant's access comes from membership alone); booking chats first.
SELECT s.:"chat_sessions.id", s.:"chat_sessions.participants"[1], s.:"chat_sessions.participants"[2]
FROM :"chat_sessions" AS s
WHERE cardinality(s.:"chat_sessions.participants") >= 2
  AND s.:"chat_sessions.participants"[1] <> s.:"chat_sessions.participants"[2]
  AND EXISTS (SELECT 1 FROM :"profiles" AS p JOIN auth.users AS u ON u.id = p.:"profiles.id"
              WHERE p.:"profiles.id" = s.:"chat_sessions.participants"[1]
                AND p.:"profiles.role" <> ALL (%(admin_roles)s)
                AND coalesce(u.raw_app_meta_data ->> 'role', '') <> ALL (%(admin_roles)s))
  AND EXISTS (SELECT 1 FROM :"profiles" AS p JOIN auth.users AS u ON u.id = p.:"profiles.id"
              WHERE p.:"profiles.id" = s.:"chat_sessions.participants"[2])
ORDER BY (s.:"chat_sessions.type" = 'booking') DESC, s.:"chat_sessions.id"
LIMIT 1
