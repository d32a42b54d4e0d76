INSERT INTO :"chat_sessions" (:"chat_sessions.id", :"chat_sessions.participants", :"chat_sessions.type",
  :"chat_sessions.status")
VALUES (%(id)s, %(participants)s::uuid[], 'direct', 'active')
