DELETE FROM :"chat_sessions" WHERE :"chat_sessions.id" = %(empty_session)s
RETURNING :"chat_sessions.id"
