-- Give every row of merge_source exactly one fate, first match wins:
--   excluded     a voice note of a context that is not a chat;
--   quarantined  unknown sender, unmapped type, unknown recipient, deleted booking, no session;
--   linked       already dual-written into chat_messages (legacy id in metadata, or same
--                session + sender + created_at + content/file): no new row;
--   migrated     a new chat_messages row with a deterministic id.
-- Session: an existing chat_sessions row with the referenced id; else the booking's session
-- (id = booking id); else for a direct message the pair's derived id. Never a random one.
WITH keyed AS (
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
              ELSE %(type_map)s::jsonb ->> k.source_type END AS chat_type,
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
         END AS reason
  FROM located AS l
),
matched AS (
  -- One twin per source row (explicit legacy id first), and one source row per twin. Two
  -- equality joins rather than one join on an OR, so each can be a hash or an index lookup.
  SELECT DISTINCT ON (x.source_table, x.source_id) x.source_table, x.source_id, x.twin_id
  FROM (
    SELECT d.source_table, d.source_id, lc.chat_message_id AS twin_id, 0 AS rank
    FROM decided AS d
    JOIN link_candidates AS lc ON lc.legacy_id = d.source_id
    WHERE d.reason IS NULL
    UNION ALL
    SELECT d.source_table, d.source_id, lc.chat_message_id, 1
    FROM decided AS d
    JOIN link_candidates AS lc
      ON lc.session_id = d.session_id AND lc.sender_id = d.sender_id AND lc.created_at = d.created_at
    WHERE d.reason IS NULL
      AND CASE WHEN d.source_table = 'voice_notes' THEN lc.file_url_md5 = coalesce(md5(d.file_url), '')
               ELSE lc.content_md5 = coalesce(md5(d.content), '') END
  ) AS x
  ORDER BY x.source_table, x.source_id, x.rank, x.twin_id
),
twins AS (
  SELECT DISTINCT ON (m.twin_id) m.source_table, m.source_id, m.twin_id
  FROM matched AS m
  ORDER BY m.twin_id, m.source_table, m.source_id
)
SELECT d.source_table, d.source_id, d.source_checksum,
       CASE WHEN d.reason = 'context_not_chat' THEN 'excluded'
            WHEN d.reason IS NOT NULL THEN 'quarantined'
            WHEN t.twin_id IS NOT NULL THEN 'linked'
            ELSE 'migrated' END AS fate,
       d.reason,
       CASE d.reason
         WHEN 'context_not_chat' THEN format('voice note context_type %%L is not a chat context', d.context_type)
         WHEN 'unknown_sender' THEN format('sender %%s is in neither profiles nor auth.users', d.sender_id)
         WHEN 'unmapped_type' THEN format('type %%L has no entry in type_map', d.source_type)
         WHEN 'unknown_recipient' THEN format('recipient %%s is in neither profiles nor auth.users', d.recipient_id)
         WHEN 'deleted_booking' THEN format('booking %%s does not exist (deleted?) and has no chat session', d.session_ref)
         WHEN 'no_session' THEN CASE
           WHEN d.source_table = 'voice_notes' AND d.session_ref IS NOT NULL
             THEN format('context_id %%s is neither a booking nor a chat session', d.session_ref)
           WHEN d.source_table = 'voice_notes' THEN 'voice note has no context_id'
           ELSE 'message has neither a booking nor a recipient' END
       END AS detail,
       coalesce(t.twin_id, d.new_message_id) AS chat_message_id,
       CASE WHEN d.reason IS NULL THEN d.session_id END AS session_id,
       d.existing_session IS NOT NULL AS session_exists,
       CASE WHEN d.booking_id IS NOT NULL THEN 'booking' ELSE 'direct' END AS session_type,
       d.booking_id AS session_booking_id,
       CASE WHEN d.booking_id IS NOT NULL THEN ARRAY[d.booking_user_id, d.booking_reader_id]
            ELSE ARRAY[least(d.sender_id, d.recipient_id), greatest(d.sender_id, d.recipient_id)]
       END AS session_participants,
       CASE WHEN d.booking_id IS NOT NULL THEN d.booking_session_status ELSE 'active' END AS session_status,
       d.booking_created_at,
       d.sender_id, d.chat_type AS type, d.content, d.file_url, d.file_name, d.file_size,
       d.duration_seconds, d.metadata, d.created_at
FROM decided AS d
LEFT JOIN twins AS t ON t.source_table = d.source_table AND t.source_id = d.source_id
