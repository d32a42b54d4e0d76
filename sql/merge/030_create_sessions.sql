-- Sessions the batch's migrated rows need that do not exist yet; each one merge creates is
-- recorded so rollback removes exactly those. A booking session starts when its booking did, a
-- direct one with its first message (kept the earliest across batches by 050).
WITH wanted AS (
  SELECT b.session_id,
         min(b.session_type) AS type,
         min(b.session_participants) AS participants,
         (array_agg(b.session_booking_id ORDER BY b.source_id))[1] AS booking_id,
         min(b.session_status) AS status,
         coalesce(min(b.booking_created_at), min(b.created_at)) AS created_at,
         max(b.created_at) AS last_message_at
  FROM merge_batch AS b
  WHERE b.fate = 'migrated' AND NOT b.session_exists
  GROUP BY b.session_id
),
created AS (
  INSERT INTO :"chat_sessions" (:"chat_sessions.id", :"chat_sessions.participants", :"chat_sessions.type",
                                :"chat_sessions.booking_id", :"chat_sessions.status",
                                :"chat_sessions.created_at", :"chat_sessions.last_message_at")
  SELECT w.session_id, w.participants, w.type, w.booking_id, w.status, w.created_at, w.last_message_at
  FROM wanted AS w
  -- In id order: two workers wanting the same new sessions wait for each other in one order,
  -- never in a cycle.
  ORDER BY w.session_id
  ON CONFLICT (:"chat_sessions.id") DO NOTHING
  RETURNING :"chat_sessions.id"
)
INSERT INTO :"tool.session_changes" (session_id, action, prior_last_message_at, batch)
SELECT c.:"chat_sessions.id", 'created', NULL, %(batch)s FROM created AS c;
