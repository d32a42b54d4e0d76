-- The classified rows: one fate per source row, and everything the batch steps need. A row
-- without created_at (and no fallback) is quarantined unless it is linked: the app's row has one.
-- A session's participants are its booking's user and reader, or the direct pair: never NULL,
-- never twice (a booking without a reader, or whose user is its reader, has one participant).
SELECT d.source_table, d.source_id, d.source_checksum,
       CASE WHEN f.reason = 'context_not_chat' THEN 'excluded'
            WHEN f.reason IS NOT NULL THEN 'quarantined'
            WHEN t.twin_id IS NOT NULL THEN 'linked'
            ELSE 'migrated' END AS fate,
       f.reason,
       CASE f.reason
         WHEN 'context_not_chat' THEN format('voice note context_type %%L is not a chat context', d.context_type)
         WHEN 'unknown_sender' THEN CASE WHEN d.sender_id IS NULL THEN 'the row has no sender'
           ELSE format('sender %%s is in neither profiles nor auth.users', d.sender_id) END
         WHEN 'unmapped_type' THEN format('type %%L has no entry in type_map', d.source_type)
         WHEN 'unknown_recipient' THEN format('recipient %%s is in neither profiles nor auth.users', d.recipient_id)
         WHEN 'deleted_booking' THEN format('booking %%s does not exist (deleted?) and has no chat session', d.session_ref)
         WHEN 'no_session' THEN CASE
           WHEN d.source_table = 'voice_notes' AND d.session_ref IS NOT NULL
             THEN format('context_id %%s is neither a booking nor a chat session', d.session_ref)
           WHEN d.source_table = 'voice_notes' THEN 'voice note has no context_id'
           ELSE 'message has neither a booking nor a recipient' END
         WHEN 'booking_without_participants'
           THEN format('booking %%s has neither user_id nor reader_id: its session would have no participant',
                       d.booking_id)
         WHEN 'missing_created_at' THEN CASE WHEN d.booking_id IS NULL
           THEN 'created_at is NULL and the row belongs to no booking to take it from'
           ELSE 'created_at is NULL (merge.missing_created_at = "booking_created_at" takes the booking''s)' END
       END AS detail,
       coalesce(t.twin_id, d.new_message_id) AS chat_message_id,
       CASE WHEN f.reason IS NULL THEN d.session_id END AS session_id,
       d.existing_session IS NOT NULL AS session_exists,
       CASE WHEN d.booking_id IS NOT NULL THEN 'booking' ELSE 'direct' END AS session_type,
       d.booking_id AS session_booking_id,
       CASE WHEN d.booking_id IS NOT NULL
              THEN array_remove(ARRAY[d.booking_user_id,
                                      nullif(d.booking_reader_id, d.booking_user_id)], NULL)
            ELSE array_remove(ARRAY[least(d.sender_id, d.recipient_id),
                                    nullif(greatest(d.sender_id, d.recipient_id), least(d.sender_id, d.recipient_id))],
                              NULL)
       END AS session_participants,
       CASE WHEN d.booking_id IS NOT NULL THEN d.booking_session_status ELSE 'active' END AS session_status,
       d.booking_created_at,
       d.sender_id, d.chat_type AS type, d.content, d.file_url, d.file_name, d.file_size,
       d.duration_seconds, d.metadata, d.effective_created_at AS created_at
FROM decided AS d
LEFT JOIN twins AS t ON t.source_table = d.source_table AND t.source_id = d.source_id
CROSS JOIN LATERAL (
  SELECT coalesce(d.reason,
                  CASE WHEN t.twin_id IS NULL AND d.effective_created_at IS NULL THEN 'missing_created_at' END)
           AS reason
) AS f
