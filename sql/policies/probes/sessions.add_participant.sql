UPDATE :"chat_sessions"
SET :"chat_sessions.participants" = :"chat_sessions.participants" || %(self)s::uuid
WHERE :"chat_sessions.id" = %(session)s
RETURNING :"chat_sessions.id"
