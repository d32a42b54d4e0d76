-- The new app's changes to chat messages that wait to be written back (sync's way back), with
-- the session each is in (or was in, by the tool's sequence, when it was deleted): pending, not
-- discrepancies — the message and its session's sequence until sync has handled it.
SELECT a.chat_message_id::text,
       coalesce(c.:"chat_messages.session_id", ms.session_id)::text
FROM (SELECT DISTINCT chat_message_id FROM :"tool.app_log" WHERE written_back_at IS NULL) AS a
LEFT JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = a.chat_message_id
LEFT JOIN :"tool.message_sequence" AS ms ON ms.chat_message_id = a.chat_message_id;
