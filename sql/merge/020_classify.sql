-- Give every row of merge_source exactly one fate, first match wins:
--   excluded     a voice note of a context that is not a chat;
--   quarantined  unknown sender, unmapped type, unknown recipient, deleted booking, no session,
--                a booking with neither user nor reader (its session would have no participant),
--                no created_at (unless merge.missing_created_at gives the booking's, 024);
--   linked       already dual-written into chat_messages (legacy id in metadata, or same
--                session + sender + created_at + content/file): no new row;
--   migrated     a new chat_messages row with a deterministic id.
-- Session: an existing chat_sessions row with the referenced id; else the booking's session
-- (id = booking id); else for a direct message the pair's derived id. Never a random one.
-- Types match type_map in any case (the keys arrive lower-cased: 'Image' is image).
-- This file holds the classification's common table expressions; the twins come from 022 (match
-- against the run's link candidates) or 023 (the link plan), and 024 gives the classified rows.
keyed AS (
  SELECT h.*,
         CASE WHEN h.pair_h IS NOT NULL THEN
           encode(set_byte(set_byte(h.pair_h, 6, (get_byte(h.pair_h, 6) & 15) | 128),
                           8, (get_byte(h.pair_h, 8) & 63) | 128), 'hex')::uuid
         END AS direct_id,
         encode(set_byte(set_byte(h.own_h, 6, (get_byte(h.own_h, 6) & 15) | 128),
                         8, (get_byte(h.own_h, 8) & 63) | 128), 'hex')::uuid AS new_message_id
  FROM (
    -- OFFSET 0 keeps this a subquery of its own, so each digest is computed once per row
    -- rather than once per reference to the ids derived from it.
    SELECT s.*,
           CASE WHEN s.session_ref IS NULL AND s.recipient_id IS NOT NULL THEN
             substr(sha256(uuid_send(%(namespace)s::uuid)
                           || uuid_send(least(s.sender_id, s.recipient_id))
                           || uuid_send(greatest(s.sender_id, s.recipient_id))), 1, 16)
           END AS pair_h,
           substr(sha256(uuid_send(%(namespace)s::uuid) || convert_to(s.source_table, 'UTF8')
                         || uuid_send(s.source_id)), 1, 16) AS own_h
    FROM merge_source AS s
    OFFSET 0
  ) AS h
  OFFSET 0
),
located AS (
  SELECT k.*,
         k.source_table = 'voice_notes'
           AND NOT (k.context_type = ANY (%(chat_context_types)s::text[])) AS out_of_scope,
         EXISTS (SELECT 1 FROM :"profiles" AS p WHERE p.:"profiles.id" = k.sender_id)
           OR EXISTS (SELECT 1 FROM :"auth.users" AS u WHERE u.id = k.sender_id) AS sender_known,
         k.recipient_id IS NULL
           OR EXISTS (SELECT 1 FROM :"profiles" AS p WHERE p.:"profiles.id" = k.recipient_id)
           OR EXISTS (SELECT 1 FROM :"auth.users" AS u WHERE u.id = k.recipient_id) AS recipient_known,
         CASE WHEN k.source_table = 'voice_notes' THEN %(voice_type)s::text
              ELSE %(type_map)s::jsonb ->> lower(k.source_type) END AS chat_type,
         cs.:"chat_sessions.id" AS existing_session,
         b.:"bookings.id" AS booking_id,
         b.:"bookings.user_id" AS booking_user_id,
         b.:"bookings.reader_id" AS booking_reader_id,
         coalesce(%(booking_status)s::jsonb ->> b.:"bookings.status"::text, 'active') AS booking_session_status,
         b.:"bookings.created_at" AS booking_created_at
  FROM keyed AS k
  LEFT JOIN :"chat_sessions" AS cs ON cs.:"chat_sessions.id" = coalesce(k.session_ref, k.direct_id)
  LEFT JOIN :"bookings" AS b ON b.:"bookings.id" = k.session_ref
),
decided AS (
  SELECT l.*,
         CASE
           WHEN l.existing_session IS NOT NULL THEN l.existing_session
           WHEN l.booking_id IS NOT NULL THEN l.booking_id
           WHEN l.session_ref IS NULL THEN l.direct_id
         END AS session_id,
         CASE
           WHEN l.out_of_scope THEN 'context_not_chat'
           WHEN NOT l.sender_known THEN 'unknown_sender'
           WHEN l.chat_type IS NULL THEN 'unmapped_type'
           WHEN l.session_ref IS NULL AND l.recipient_id IS NOT NULL AND NOT l.recipient_known
             THEN 'unknown_recipient'
           WHEN l.existing_session IS NULL AND l.booking_id IS NULL AND l.session_ref IS NOT NULL
                AND l.source_table = 'messages' THEN 'deleted_booking'
           WHEN l.existing_session IS NULL AND l.booking_id IS NULL AND l.direct_id IS NULL
             THEN 'no_session'
           WHEN l.existing_session IS NULL AND l.booking_id IS NOT NULL
                AND l.booking_user_id IS NULL AND l.booking_reader_id IS NULL
             THEN 'booking_without_participants'
         END AS reason,
         coalesce(l.created_at,
                  CASE WHEN %(missing_created_at)s = 'booking_created_at' THEN l.booking_created_at END)
           AS effective_created_at
  FROM located AS l
  -- Computed once per row here: 024 reads the reason in several places.
  OFFSET 0
)
