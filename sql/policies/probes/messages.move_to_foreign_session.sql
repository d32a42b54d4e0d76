UPDATE :"chat_messages" SET :"chat_messages.session_id" = %(foreign_session)s
WHERE :"chat_messages.id" = %(own_message)s
RETURNING :"chat_messages.id"
