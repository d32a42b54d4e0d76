-- Rows merge wrote or already linked are nobody's twin; index the rest for per-batch lookups.
DELETE FROM link_candidates AS lc
USING :"tool.provenance" AS p
WHERE p.chat_message_id = lc.chat_message_id;
CREATE INDEX ON link_candidates (legacy_id);
CREATE INDEX ON link_candidates (session_id, sender_id, created_at);
ANALYZE link_candidates;
