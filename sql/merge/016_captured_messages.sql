-- The current state of the `messages` rows whose changes the forwarder took (capture_batch),
-- locked until the forwarding commits: a later change waits, is captured again and forwarded
-- after this one. Rows already linked to a dual-written chat message keep their link (069).
WHERE m.:"messages.id" IN (SELECT cb.source_id FROM capture_batch AS cb WHERE cb.source_table = 'messages')
  AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                  WHERE p.source_table = 'messages' AND p.source_id = m.:"messages.id" AND p.fate = 'linked')
FOR SHARE OF m
