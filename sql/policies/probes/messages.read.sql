SELECT m.:"chat_messages.id" FROM :"chat_messages" AS m
WHERE m.:"chat_messages.session_id" = %(session)s
ORDER BY m.:"chat_messages.created_at" DESC LIMIT 50
