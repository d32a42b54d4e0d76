-- One legacy message and one voice note, so that "service_role reads them" can be observed.
WITH message AS (
  INSERT INTO :"messages" (:"messages.id", :"messages.sender_id", :"messages.recipient_id", :"messages.type",
    :"messages.content")
  VALUES (%(message)s, %(sender)s, %(recipient)s, 'text', 'probe: legacy fixture')
)
INSERT INTO :"voice_notes" (:"voice_notes.id", :"voice_notes.user_id", :"voice_notes.context_type",
  :"voice_notes.context_id", :"voice_notes.file_url")
VALUES (%(voice_note)s, %(sender)s, 'chat', %(session)s, 'probe/legacy.webm')
