-- Entries that no longer hold (a message arrived in between, or went away) make room first.
DELETE FROM :"tool.message_sequence" AS ms
WHERE ms.session_id IN (SELECT s.session_id FROM sequence_sessions AS s)
  AND NOT EXISTS (SELECT 1 FROM sequence_batch AS sb
                  WHERE sb.session_id = ms.session_id AND sb.sequence = ms.sequence
                    AND sb.chat_message_id = ms.chat_message_id);
