SELECT m.:"messages.id" FROM :"messages" AS m WHERE m.:"messages.id" = %(legacy_message)s
