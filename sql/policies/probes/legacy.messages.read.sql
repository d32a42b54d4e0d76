SELECT m.:"messages.id" FROM :"messages" AS m WHERE m.:"messages.id" = %(legacy_other_message)s
