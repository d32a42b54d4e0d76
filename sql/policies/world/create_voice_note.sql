INSERT INTO :"voice_notes" (:"voice_notes.id", :"voice_notes.user_id", :"voice_notes.context_type",
  :"voice_notes.context_id", :"voice_notes.file_url")
VALUES (%(id)s, %(user)s, %(context_type)s, %(context)s, %(file_url)s)
