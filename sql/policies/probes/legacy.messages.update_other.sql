UPDATE :"messages" SET :"messages.content" = 'probe: edited' WHERE :"messages.id" = %(legacy_other_message)s
RETURNING :"messages.id"
