-- A session neither probed participant is in: the target of "send into another session".
SELECT s.:"chat_sessions.id" FROM :"chat_sessions" AS s
WHERE NOT s.:"chat_sessions.participants" && %(exclude)s::uuid[]
ORDER BY s.:"chat_sessions.id"
LIMIT 1
