-- Rollback: the chat messages merge inserted, found by provenance; linked rows stay, they were
-- the app's before merge.
DELETE FROM :"chat_messages" AS c
USING :"tool.provenance" AS p
WHERE p.fate = 'migrated' AND c.:"chat_messages.id" = p.chat_message_id;
