-- Rollback: sessions merge created, unless messages merge did not write have since arrived in
-- them (deleting those would orphan the app's messages; they are reported instead).
DELETE FROM :"chat_sessions" AS s
USING :"tool.session_changes" AS sc
WHERE sc.action = 'created' AND s.:"chat_sessions.id" = sc.session_id
  AND NOT EXISTS (SELECT 1 FROM :"chat_messages" AS c
                  WHERE c.:"chat_messages.session_id" = s.:"chat_sessions.id");
