-- Missing entries only: a re-run over an unchanged session writes nothing (a slot already held
-- is skipped by its key, so no separate probe per row). In key order, so the primary key fills
-- page by page.
INSERT INTO :"tool.message_sequence" (session_id, sequence, chat_message_id)
SELECT sb.session_id, sb.sequence, sb.chat_message_id
FROM sequence_batch AS sb
ORDER BY sb.session_id, sb.sequence
ON CONFLICT (session_id, sequence) DO NOTHING;
