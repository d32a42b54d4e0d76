-- A signed-in user with a profile, in none of the probed sessions, admin or not as asked.
SELECT u.id, u.email, coalesce(u.raw_app_meta_data, '{}'::jsonb)
FROM auth.users AS u JOIN :"profiles" AS p ON p.:"profiles.id" = u.id
WHERE u.id <> ALL (%(exclude)s::uuid[])
  AND NOT EXISTS (SELECT 1 FROM :"chat_sessions" AS s
                  WHERE s.:"chat_sessions.id" = ANY (%(sessions)s::uuid[])
                    AND u.id = ANY (s.:"chat_sessions.participants"))
  AND (CASE WHEN %(source)s = 'claim' THEN coalesce(u.raw_app_meta_data ->> 'role', '') = ANY (%(admin_roles)s)
            ELSE p.:"profiles.role" = ANY (%(admin_roles)s) END) = %(admin)s
  AND (%(admin)s OR (p.:"profiles.role" <> ALL (%(admin_roles)s)
                     AND coalesce(u.raw_app_meta_data ->> 'role', '') <> ALL (%(admin_roles)s)))
ORDER BY u.id
LIMIT 1
