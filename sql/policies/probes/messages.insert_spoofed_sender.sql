INSERT INTO :"chat_messages" (:"chat_messages.id", :"chat_messages.session_id", :"chat_messages.sender_id",
  :"chat_messages.type", :"chat_messages.content")
VALUES (%(new_id)s, %(session)s, %(other)s, 'text', 'probe: spoofed')
RETURNING :"chat_messages.id"
