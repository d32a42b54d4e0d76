UPDATE :"chat_messages" SET :"chat_messages.content" = 'probe: edited'
WHERE :"chat_messages.id" = %(own_message)s
RETURNING :"chat_messages.id"
