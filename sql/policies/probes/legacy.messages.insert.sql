INSERT INTO :"messages" (:"messages.id", :"messages.booking_id", :"messages.sender_id", :"messages.type",
  :"messages.content")
VALUES (%(new_id)s, %(booking)s, %(self)s, 'text', 'probe: legacy')
RETURNING :"messages.id"
