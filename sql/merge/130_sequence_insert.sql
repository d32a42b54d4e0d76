-- Missing entries only: a re-run over an unchanged session writes nothing. In key order, so the
-- primary key fills page by page (an anti-join here is cheaper than ON CONFLICT's speculative
-- insertion, measured).
INSERT INTO :"tool.message_sequence" (session_id, sequence, chat_message_id)
SELECT sb.session_id, sb.sequence, sb.chat_message_id
FROM sequence_batch AS sb
WHERE NOT EXISTS (SELECT 1 FROM :"tool.message_sequence" AS ms
                  WHERE ms.session_id = sb.session_id AND ms.sequence = sb.sequence)
ORDER BY sb.session_id, sb.sequence;
