-- Each message's place in its session: gap-free from 1 by (created_at, id), over every row in
-- the session, the app's included.
CREATE TEMP TABLE sequence_batch ON COMMIT DROP AS
SELECT c.:"chat_messages.session_id" AS session_id,
       row_number() OVER (PARTITION BY c.:"chat_messages.session_id"
                          ORDER BY c.:"chat_messages.created_at", c.:"chat_messages.id") AS sequence,
       c.:"chat_messages.id" AS chat_message_id
FROM :"chat_messages" AS c
WHERE c.:"chat_messages.session_id" IN (SELECT s.session_id FROM sequence_sessions AS s);
