-- The current state of the the source rows whose changes the forwarder took (capture_batch),
-- locked until the forwarding commits: a later change waits, is captured again and forwarded
-- after this one. Rows already linked to a dual-written chat message keep their link (069).
WHERE :"alias".:"source.id" IN (SELECT cb.source_id FROM capture_batch AS cb WHERE cb.source_table = :'source_table')
  AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                  WHERE p.source_table = :'source_table' AND p.source_id = :"alias".:"source.id" AND p.fate = 'linked')
FOR SHARE OF :"alias"
