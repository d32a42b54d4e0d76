INSERT INTO :"chat_messages" (:"chat_messages.id", :"chat_messages.session_id", :"chat_messages.sender_id",
  :"chat_messages.type", :"chat_messages.content")
VALUES (%(id)s, %(session)s, %(sender)s, 'text', 'probe: fixture')
