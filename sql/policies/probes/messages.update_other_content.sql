UPDATE :"chat_messages" SET :"chat_messages.content" = 'probe: edited by someone else'
WHERE :"chat_messages.id" = %(other_message)s
RETURNING :"chat_messages.id"
