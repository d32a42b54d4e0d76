-- chat_messages as the newer app left them. i: copies of legacy rows it dual-wrote (same
-- session, sender, content or file, created_at); even-numbered ones name their legacy row in
-- metadata, odd ones do not, so merge must match those by content. k: its own messages.
INSERT INTO public.chat_messages (id, session_id, sender_id, type, content, file_url, file_name,
                                  file_size, duration_seconds, reply_to_message_id, metadata, created_at)
SELECT pg_temp.seed_uuid(%(seed)s, 'dual-message', p.n), p.session_key, m.sender_id,
       CASE m.type WHEN 'voice' THEN 'audio' ELSE m.type END,
       m.content, m.file_url, o.file_name, o.size, NULL::numeric, NULL::uuid,
       CASE WHEN mod(p.n, 2) = 0 THEN jsonb_build_object('legacy_message_id', m.id) ELSE '{}'::jsonb END,
       m.created_at
FROM seed_message_plan AS p
JOIN public.messages AS m ON m.id = p.id
LEFT JOIN seed_objects AS o ON o.source_table = 'messages' AND o.source_n = p.n
WHERE p.dual_written
UNION ALL
SELECT pg_temp.seed_uuid(%(seed)s, 'dual-voice-note', p.v), p.session_key, vn.user_id, 'audio', NULL,
       vn.file_url, vn.file_name, vn.file_size, vn.duration_seconds, NULL,
       CASE WHEN mod(p.v, 2) = 0 THEN jsonb_build_object('legacy_message_id', vn.id) ELSE '{}'::jsonb END,
       vn.created_at
FROM seed_voice_plan AS p
JOIN public.voice_notes AS vn ON vn.id = p.id
WHERE p.dual_written
UNION ALL
SELECT a.id, a.session_id, a.sender_id, coalesce(o.kind, 'text'),
       CASE WHEN o.kind IS NULL THEN (ARRAY['hey!', 'new app works 🎉', 'did you get my file?',
                                            'yes, thanks', 'talk tomorrow', 'bye 👋'])[a.pos] END,
       o.reference, o.file_name, o.size, NULL, a.reply_to, '{"app_version": "2.4.0"}'::jsonb, a.created_at
FROM seed_app_plan AS a
LEFT JOIN seed_objects AS o ON o.source_table = 'chat_messages' AND o.source_n = a.n
