DELETE FROM :"voice_notes" WHERE :"voice_notes.id" = %(legacy_own_voice_note)s
RETURNING :"voice_notes.id"
