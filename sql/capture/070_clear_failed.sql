-- A forwarded row the forwarding fails on by itself (taken alone, it still failed) makes way
-- for its quarantine (071): a chat message merge migrated it to goes with its provenance; a link
-- to the app's dual-written row stays (the app's row is the app's).
WITH cleared AS (
  DELETE FROM :"tool.provenance" AS p
  USING capture_batch AS cb
  WHERE p.source_table = cb.source_table AND p.source_id = cb.source_id AND p.fate = 'migrated'
  RETURNING p.chat_message_id
)
DELETE FROM :"chat_messages" AS c
USING cleared AS x
WHERE c.:"chat_messages.id" = x.chat_message_id;
