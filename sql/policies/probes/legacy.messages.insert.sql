INSERT INTO :"messages" (:"messages.id", :"messages.sender_id", :"messages.recipient_id", :"messages.type",
  :"messages.content")
VALUES (%(new_id)s, %(self)s, %(other)s, 'text', 'probe: legacy')
RETURNING :"messages.id"
