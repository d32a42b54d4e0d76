-- Indexed for the per-row lookups of the link plan and of forwarding.
CREATE INDEX ON link_candidates (legacy_id);
CREATE INDEX ON link_candidates (session_id, sender_id, created_at);
ANALYZE link_candidates;
