-- The link plan: every row classified in 012's scope is planned once, with its twin when it
-- won one and NULL when it matched nothing or lost its twin to a better claim. A resumed run
-- keeps what is planned, so it decides exactly as an uninterrupted run did.
INSERT INTO :"tool.link_plan" (source_table, source_id, chat_message_id)
SELECT b.source_table, b.source_id, CASE WHEN b.fate = 'linked' THEN b.chat_message_id END
FROM merge_batch AS b
WHERE b.fate IN ('linked', 'migrated')
ON CONFLICT (source_table, source_id) DO NOTHING;
