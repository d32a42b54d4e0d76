-- A migrated message with a twin merge did not write (same session, sender, created_at and
-- content): a dual-write merge failed to link, i.e. a duplicate.
SELECT p.source_table, p.source_id::text,
       'chat message ' || c.:"chat_messages.id" || ' duplicates ' || twin.:"chat_messages.id"
FROM :"tool.provenance" AS p
JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = p.chat_message_id
JOIN :"chat_messages" AS twin
  ON twin.:"chat_messages.session_id" = c.:"chat_messages.session_id"
 AND twin.:"chat_messages.sender_id" = c.:"chat_messages.sender_id"
 AND twin.:"chat_messages.created_at" = c.:"chat_messages.created_at"
 AND twin.:"chat_messages.content" IS NOT DISTINCT FROM c.:"chat_messages.content"
 AND twin.:"chat_messages.file_url" IS NOT DISTINCT FROM c.:"chat_messages.file_url"
 AND twin.:"chat_messages.id" <> c.:"chat_messages.id"
WHERE p.fate = 'migrated'
  AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS q WHERE q.chat_message_id = twin.:"chat_messages.id")
ORDER BY 1, 2;
