UPDATE :"messages" SET :"messages.content" = 'probe: edited' WHERE :"messages.id" = %(legacy_own_message)s
RETURNING :"messages.id"
