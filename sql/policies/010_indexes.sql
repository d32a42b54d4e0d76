-- The indexes the policies need, built without blocking writes (each statement runs on its own,
-- outside the policy transaction). The session check reads chat_sessions by participant
-- (GIN, for `participants @> ARRAY[uid]`); a participant's reads go by session and time.
CREATE INDEX CONCURRENTLY IF NOT EXISTS :"index.sessions_participants"
  ON :"chat_sessions" USING gin (:"chat_sessions.participants");

CREATE INDEX CONCURRENTLY IF NOT EXISTS :"index.messages_session_created"
  ON :"chat_messages" (:"chat_messages.session_id", :"chat_messages.created_at" DESC);
