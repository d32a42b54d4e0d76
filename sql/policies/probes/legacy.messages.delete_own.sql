DELETE FROM :"messages" WHERE :"messages.id" = %(legacy_own_message)s
RETURNING :"messages.id"
