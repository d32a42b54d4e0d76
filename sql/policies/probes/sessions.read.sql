SELECT s.:"chat_sessions.id" FROM :"chat_sessions" AS s WHERE s.:"chat_sessions.id" = %(session)s
