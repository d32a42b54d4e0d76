INSERT INTO :"chat_sessions" (:"chat_sessions.id", :"chat_sessions.participants", :"chat_sessions.type",
  :"chat_sessions.status")
VALUES (%(new_session)s, ARRAY[%(self)s, %(other)s]::uuid[], 'direct', 'active')
RETURNING :"chat_sessions.id"
