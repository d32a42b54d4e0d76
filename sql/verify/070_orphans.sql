-- Messages merge migrated or linked that have no session row.
SELECT p.source_table, p.source_id::text,
       'chat message ' || c.:"chat_messages.id" || ' has no session (' || coalesce(c.:"chat_messages.session_id"::text, 'NULL') || ')'
FROM :"tool.provenance" AS p
JOIN :"chat_messages" AS c ON c.:"chat_messages.id" = p.chat_message_id
WHERE NOT EXISTS (SELECT 1 FROM :"chat_sessions" AS s WHERE s.:"chat_sessions.id" = c.:"chat_messages.session_id")
ORDER BY 1, 2;
