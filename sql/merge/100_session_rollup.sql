-- Every session merge wrote into, rolled up from chat_messages in one scan: its messages in
-- order (created_at, id) over every row in it, the app's included, and the first and newest of
-- the messages merge migrated into it (a session follows merge's rows, never the app's). Kept:
-- sessions with a migrated message, and sessions merge created or sequenced before.
CREATE TEMP TABLE session_rollup ON COMMIT DROP AS
SELECT c.:"chat_messages.session_id" AS session_id,
       array_agg(c.:"chat_messages.id" ORDER BY c.:"chat_messages.created_at", c.:"chat_messages.id")
         AS message_ids,
       min(c.:"chat_messages.created_at") FILTER (WHERE p.chat_message_id IS NOT NULL) AS first_at,
       max(c.:"chat_messages.created_at") FILTER (WHERE p.chat_message_id IS NOT NULL) AS last_at
FROM :"chat_messages" AS c
LEFT JOIN :"tool.provenance" AS p ON p.chat_message_id = c.:"chat_messages.id" AND p.fate = 'migrated'
WHERE c.:"chat_messages.session_id" IS NOT NULL
GROUP BY c.:"chat_messages.session_id"
HAVING count(p.chat_message_id) > 0
    OR c.:"chat_messages.session_id" IN (SELECT sc.session_id FROM :"tool.session_changes" AS sc)
    OR c.:"chat_messages.session_id" IN (SELECT ss.session_id FROM :"tool.session_sequence" AS ss);
ANALYZE session_rollup;
