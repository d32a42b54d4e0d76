-- Every session merge created or wrote into has participants, none NULL and none twice: the
-- access policy reads a session's participants to decide who sees its messages.
SELECT 'chat_sessions', s.:"chat_sessions.id"::text,
       CASE WHEN s.:"chat_sessions.participants" IS NULL OR cardinality(s.:"chat_sessions.participants") = 0
              THEN 'has no participants'
            WHEN array_position(s.:"chat_sessions.participants", NULL) IS NOT NULL
              THEN 'participants ' || s.:"chat_sessions.participants"::text || ' hold NULL'
            ELSE 'participants ' || s.:"chat_sessions.participants"::text || ' name someone twice' END
FROM :"tool.session_changes" AS sc
JOIN :"chat_sessions" AS s ON s.:"chat_sessions.id" = sc.session_id
WHERE s.:"chat_sessions.participants" IS NULL
   OR cardinality(s.:"chat_sessions.participants") = 0
   OR array_position(s.:"chat_sessions.participants", NULL) IS NOT NULL
   OR cardinality(s.:"chat_sessions.participants")
        <> (SELECT count(DISTINCT p) FROM unnest(s.:"chat_sessions.participants") AS p)
ORDER BY 1, 2;
