-- The legacy messages: text, or the file of their plan with its reference and metadata.
INSERT INTO public.messages (id, booking_id, sender_id, recipient_id, type, content, file_url,
                             metadata, created_at)
SELECT p.id, p.booking_id, p.sender_id, p.recipient_id,
       CASE o.kind WHEN 'image' THEN 'image' WHEN 'voice' THEN 'voice' WHEN 'file' THEN 'file'
                   ELSE 'text' END,
       CASE WHEN p.content_anomaly = 'null' THEN NULL
            WHEN p.content_anomaly = 'empty' THEN ''
            WHEN p.content_anomaly = 'huge' THEN repeat(md5(%(seed)s || ':huge:' || p.n) || ' ', 32768)
            WHEN o.kind = 'voice' THEN NULL
            WHEN o.kind IS NOT NULL THEN
              (ARRAY[NULL, '', 'here you go', 'see attached', 'the file we talked about', 'voilà 📎'])
                [1 + pg_temp.seed_int(%(seed)s, 'caption', p.n, 6)]
            ELSE (ARRAY['Hi', 'Hello again', 'Thanks so much', 'Good morning', 'Quick question:',
                        'Merci !', 'Danke', 'Sure', 'Sounds good', 'Hmm', 'Ok 👍', 'Привет', 'こんにちは',
                        'One more thing:', 'Great reading', 'See you soon'])
                   [1 + pg_temp.seed_int(%(seed)s, 'opening', p.n, 16)]
                 || ' ' || (ARRAY['about tomorrow.', 'can we move our session?', 'that helped a lot.',
                                  'I will be five minutes late.', 'what did the cards say?',
                                  'is 6 pm ok for you?', 'it''s been a while!', 'how does this work?',
                                  'see you at 10.', 'I left a review ⭐⭐⭐⭐⭐', 'café tomorrow?',
                                  'can you send the notes?', 'thank you — really.', '“quoted” text',
                                  'line one\nline two', 'emoji test 🌙✨'])
                   [1 + pg_temp.seed_int(%(seed)s, 'closing', p.n, 16)]
       END,
       o.reference,
       coalesce(o.metadata,
                CASE WHEN pg_temp.seed_int(%(seed)s, 'client', p.n, 5) = 0
                     THEN jsonb_build_object('client', (ARRAY['ios', 'android', 'web'])
                                               [1 + pg_temp.seed_int(%(seed)s, 'client-kind', p.n, 3)])
                     ELSE '{}'::jsonb END),
       p.created_at
FROM seed_message_plan AS p
LEFT JOIN seed_objects AS o ON o.source_table = 'messages' AND o.source_n = p.n
