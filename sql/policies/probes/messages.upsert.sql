INSERT INTO :"chat_messages" AS m (:"chat_messages.id", :"chat_messages.session_id", :"chat_messages.sender_id",
  :"chat_messages.type", :"chat_messages.content")
VALUES (%(own_message)s, %(session)s, %(self)s, 'text', 'probe: upserted')
ON CONFLICT (:"chat_messages.id") DO UPDATE SET
  :"chat_messages.session_id" = EXCLUDED.:"chat_messages.session_id",
  :"chat_messages.sender_id" = EXCLUDED.:"chat_messages.sender_id",
  :"chat_messages.type" = EXCLUDED.:"chat_messages.type",
  :"chat_messages.content" = EXCLUDED.:"chat_messages.content"
RETURNING m.:"chat_messages.id"
