-- The current state of the `voice_notes` rows whose changes the forwarder took (capture_batch),
-- locked until the forwarding commits: a later change waits, is captured again and forwarded
-- after this one. Rows already linked to a dual-written chat message keep their link (069).
WHERE v.:"voice_notes.id" IN (SELECT cb.source_id FROM capture_batch AS cb WHERE cb.source_table = 'voice_notes')
  AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                  WHERE p.source_table = 'voice_notes' AND p.source_id = v.:"voice_notes.id" AND p.fate = 'linked')
FOR SHARE OF v
