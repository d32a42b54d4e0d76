SELECT v.:"voice_notes.id" FROM :"voice_notes" AS v WHERE v.:"voice_notes.id" = %(legacy_voice_note)s
