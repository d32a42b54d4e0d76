-- A forwarded row's earlier fate makes way for its new one. Its migrated chat message stays
-- when it is migrated again (065 updates it in place, same id); it goes when the row was
-- deleted or is now quarantined or excluded. A link to the app's dual-written row is kept
-- while the source row exists (the app's row is the app's; 069 refreshes its checksum).
WITH cleared AS (
  DELETE FROM :"tool.provenance" AS p
  USING capture_batch AS cb
  WHERE p.source_table = cb.source_table AND p.source_id = cb.source_id
    AND (p.fate = 'migrated'
         OR NOT EXISTS (SELECT 1 FROM :"messages" AS m
                        WHERE p.source_table = 'messages' AND m.:"messages.id" = p.source_id)
            AND NOT EXISTS (SELECT 1 FROM :"voice_notes" AS v
                            WHERE p.source_table = 'voice_notes' AND v.:"voice_notes.id" = p.source_id))
  RETURNING p.source_table, p.source_id, p.chat_message_id, p.fate
)
DELETE FROM :"chat_messages" AS c
USING cleared AS x
WHERE x.fate = 'migrated' AND c.:"chat_messages.id" = x.chat_message_id
  AND NOT EXISTS (SELECT 1 FROM merge_batch AS b
                  WHERE b.source_table = x.source_table AND b.source_id = x.source_id
                    AND b.fate = 'migrated');
