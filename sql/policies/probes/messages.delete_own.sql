DELETE FROM :"chat_messages" WHERE :"chat_messages.id" = %(own_message)s
RETURNING :"chat_messages.id"
