-- How many rows of each anomaly class the seed made, read back from the tables (and, for the
-- file classes, from the seed's manifest of objects), one row per class. The l classes count
-- the messages in such bookings.
WITH msg AS (
  SELECT count(*) FILTER (WHERE m.booking_id IS NULL AND m.recipient_id IS NOT NULL) AS a_direct,
         count(*) FILTER (WHERE m.booking_id IS NULL AND m.recipient_id IS NULL) AS b_orphan,
         count(*) FILTER (WHERE m.booking_id IS NOT NULL AND b.id IS NULL) AS c_deleted,
         count(*) FILTER (WHERE p.id IS NULL AND u.id IS NULL) AS d_ghost,
         count(*) FILTER (WHERE m.type = 'text' AND coalesce(m.content, '') = '') AS j_blank,
         count(*) FILTER (WHERE octet_length(m.content) >= 1048576) AS j_huge,
         count(*) FILTER (WHERE m.metadata::text LIKE '%%/storage/v1/%%') AS f_metadata,
         count(*) FILTER (WHERE b.id IS NOT NULL AND b.user_id IS NOT NULL AND b.reader_id IS NULL) AS l_no_reader,
         count(*) FILTER (WHERE b.reader_id = b.user_id) AS l_self,
         count(*) FILTER (WHERE b.id IS NOT NULL AND b.user_id IS NULL AND b.reader_id IS NULL) AS l_nobody,
         count(*) FILTER (WHERE m.created_at IS NULL) AS m_no_created_at,
         count(*) FILTER (WHERE jsonb_typeof(m.metadata) = 'string') AS n_string,
         count(*) FILTER (WHERE jsonb_typeof(m.metadata) = 'number') AS n_number,
         count(*) FILTER (WHERE jsonb_typeof(m.metadata) = 'boolean') AS n_boolean,
         count(*) FILTER (WHERE jsonb_typeof(m.metadata) = 'null') AS n_null,
         count(*) FILTER (WHERE jsonb_typeof(m.metadata) = 'array') AS n_array,
         -- at least 1,000 levels: a container at the end of a 999-step path
         count(*) FILTER (WHERE m.metadata #> %(deep_path)s::text[] IS NOT NULL) AS n_deep,
         count(*) FILTER (WHERE octet_length(m.file_url) >= 100000) AS o_long_url
  FROM public.messages AS m
  LEFT JOIN public.bookings AS b ON b.id = m.booking_id
  LEFT JOIN public.profiles AS p ON p.id = m.sender_id
  LEFT JOIN auth.users AS u ON u.id = m.sender_id
),
voice AS (
  SELECT count(*) FILTER (WHERE v.context_type <> 'chat') AS e_not_chat,
         count(*) FILTER (WHERE p.id IS NULL AND u.id IS NULL) AS d_ghost
  FROM public.voice_notes AS v
  LEFT JOIN public.profiles AS p ON p.id = v.user_id
  LEFT JOIN auth.users AS u ON u.id = v.user_id
),
refs AS (
  SELECT o.*,
         count(*) FILTER (WHERE o.present) OVER (PARTITION BY o.session_key, o.owner, o.leaf) AS same_name
  FROM seed_objects AS o
  WHERE o.source_table <> 'chat_messages'
),
files AS (
  SELECT count(*) FILTER (WHERE r.form = 'public_url') AS f_public,
         count(*) FILTER (WHERE r.form = 'signed_url') AS f_signed,
         count(*) FILTER (WHERE r.form = 'authenticated_url') AS f_authenticated,
         count(*) FILTER (WHERE r.form = 'bucket_path') AS f_bucket_path,
         count(*) FILTER (WHERE r.form = 'bare_path') AS f_bare_path,
         count(*) FILTER (WHERE r.reference ~ '%%[0-9A-F]{2}') AS f_percent,
         count(*) FILTER (WHERE r.form = 'foreign_host') AS f_foreign,
         count(*) FILTER (WHERE NOT r.present AND r.form <> 'foreign_host') AS g_missing,
         count(*) FILTER (WHERE r.leaf LIKE '%% %%') AS h_spaces,
         count(*) FILTER (WHERE octet_length(r.leaf) <> char_length(r.leaf)) AS h_non_ascii,
         count(*) FILTER (WHERE r.present AND r.session_key IS NOT NULL AND r.same_name > 1) AS h_same_name,
         count(*) FILTER (WHERE r.present AND r.size = 0) AS h_zero_byte
  FROM refs AS r
),
dual AS (
  SELECT count(*) FILTER (WHERE c.metadata ? 'legacy_message_id') AS with_id,
         count(*) FILTER (WHERE NOT c.metadata ? 'legacy_message_id' AND NOT c.metadata ? 'app_version') AS by_content,
         count(*) FILTER (WHERE c.metadata ? 'app_version') AS app_messages
  FROM public.chat_messages AS c
),
app AS (
  SELECT count(DISTINCT a.session_id) AS sessions FROM seed_app_plan AS a
)
SELECT key, rows
FROM msg, voice, files, dual, app,
LATERAL (VALUES
  ('a_direct_message', msg.a_direct),
  ('b_no_booking_no_recipient', msg.b_orphan),
  ('c_deleted_booking', msg.c_deleted),
  ('d_unknown_sender', msg.d_ghost + voice.d_ghost),
  ('e_voice_note_not_chat', voice.e_not_chat),
  ('f_public_url', files.f_public),
  ('f_signed_url', files.f_signed),
  ('f_authenticated_url', files.f_authenticated),
  ('f_bucket_path', files.f_bucket_path),
  ('f_bare_path', files.f_bare_path),
  ('f_percent_encoded', files.f_percent),
  ('f_url_in_metadata', msg.f_metadata),
  ('f_foreign_host', files.f_foreign),
  ('g_missing_object', files.g_missing),
  ('h_name_with_spaces', files.h_spaces),
  ('h_name_non_ascii', files.h_non_ascii),
  ('h_same_name_in_session', files.h_same_name),
  ('h_zero_byte_file', files.h_zero_byte),
  ('i_dual_written_with_legacy_id', dual.with_id),
  ('i_dual_written_by_content', dual.by_content),
  ('j_null_or_empty_text', msg.j_blank),
  ('j_content_1mb', msg.j_huge),
  ('k_new_app_session', app.sessions),
  ('k_new_app_message', dual.app_messages),
  ('l_booking_without_reader', msg.l_no_reader),
  ('l_booking_user_is_reader', msg.l_self),
  ('l_booking_without_participants', msg.l_nobody),
  ('m_null_created_at', msg.m_no_created_at),
  ('n_json_top_level_string', msg.n_string),
  ('n_json_top_level_number', msg.n_number),
  ('n_json_top_level_boolean', msg.n_boolean),
  ('n_json_top_level_null', msg.n_null),
  ('n_json_top_level_array', msg.n_array),
  ('n_json_1000_deep', msg.n_deep),
  ('o_url_100kb', msg.o_long_url)
) AS classes(key, rows)
