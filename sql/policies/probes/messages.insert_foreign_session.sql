INSERT INTO :"chat_messages" (:"chat_messages.id", :"chat_messages.session_id", :"chat_messages.sender_id",
  :"chat_messages.type", :"chat_messages.content")
VALUES (%(new_id)s, %(foreign_session)s, %(self)s, 'text', 'probe: foreign session')
RETURNING :"chat_messages.id"
