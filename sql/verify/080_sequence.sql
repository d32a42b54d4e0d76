-- In every session merge wrote into, each message holds place n of 1..count by
-- (created_at, id): a missing, extra, misplaced or gapped entry is a finding.
WITH expected AS (
  SELECT c.:"chat_messages.session_id" AS session_id, c.:"chat_messages.id" AS chat_message_id,
         row_number() OVER (PARTITION BY c.:"chat_messages.session_id"
                            ORDER BY c.:"chat_messages.created_at", c.:"chat_messages.id") AS sequence
  FROM :"chat_messages" AS c
  WHERE c.:"chat_messages.session_id" IN (SELECT session_id FROM :"tool.session_changes")
),
recorded AS (
  SELECT ms.session_id, ms.chat_message_id, ms.sequence FROM :"tool.message_sequence" AS ms
)
SELECT 'chat_sessions', coalesce(e.session_id, r.session_id)::text,
       CASE WHEN r.chat_message_id IS NULL THEN 'message ' || e.chat_message_id || ' has no sequence (expected ' || e.sequence || '; written after the last merge? re-run merge)'
            WHEN e.chat_message_id IS NULL THEN 'sequence ' || r.sequence || ' names message ' || r.chat_message_id || ', which is not in this session'
            ELSE 'message ' || e.chat_message_id || ' has sequence ' || r.sequence || ', expected ' || e.sequence END
FROM expected AS e
FULL JOIN recorded AS r ON r.chat_message_id = e.chat_message_id AND r.session_id = e.session_id
WHERE r.sequence IS DISTINCT FROM e.sequence
ORDER BY 1, 2;
