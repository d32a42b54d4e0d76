-- Rollback: sessions merge created that are kept because the app has written into them.
SELECT sc.session_id::text
FROM :"tool.session_changes" AS sc
JOIN :"chat_sessions" AS s ON s.:"chat_sessions.id" = sc.session_id
WHERE sc.action = 'created'
ORDER BY 1;
