-- A legacy booking message (with the file it refers to, if any): the legacy tables' fixtures.
INSERT INTO :"messages" (:"messages.id", :"messages.booking_id", :"messages.sender_id", :"messages.type",
  :"messages.content", :"messages.file_url")
VALUES (%(id)s, %(booking)s, %(sender)s, CASE WHEN %(file_url)s::text IS NULL THEN 'text' ELSE 'file' END,
  'probe: legacy fixture', %(file_url)s)
