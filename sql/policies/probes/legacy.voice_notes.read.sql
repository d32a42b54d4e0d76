SELECT v.:"voice_notes.id" FROM :"voice_notes" AS v WHERE v.:"voice_notes.id" = %(legacy_other_voice_note)s
