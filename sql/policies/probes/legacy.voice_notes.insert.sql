INSERT INTO :"voice_notes" (:"voice_notes.id", :"voice_notes.user_id", :"voice_notes.context_type",
  :"voice_notes.context_id", :"voice_notes.file_url")
VALUES (%(new_id)s, %(self)s, %(chat_context)s, %(booking)s, 'probe/legacy.webm')
RETURNING :"voice_notes.id"
