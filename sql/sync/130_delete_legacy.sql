-- A written-back message the new app deleted (or moved out of its legacy home) leaves the legacy
-- table too, with its provenance.
WITH gone AS (
  DELETE FROM :"tool.provenance" AS p
  USING write_back_batch AS wb
  WHERE p.batch = %(write_back_batch)s AND p.source_table = 'messages'
    AND p.chat_message_id = wb.chat_message_id
    AND NOT EXISTS (SELECT 1 FROM write_back_rows AS r WHERE r.chat_message_id = p.chat_message_id)
  RETURNING p.source_id
)
DELETE FROM :"messages" AS m
USING gone
WHERE m.:"messages.id" = gone.source_id;
