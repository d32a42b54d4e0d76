-- Rows per table the seed filled, in a fixed order.
SELECT name, rows
FROM (VALUES
  (1, 'auth.users', (SELECT count(*) FROM auth.users)),
  (2, 'profiles', (SELECT count(*) FROM public.profiles)),
  (3, 'bookings', (SELECT count(*) FROM public.bookings)),
  (4, 'messages', (SELECT count(*) FROM public.messages)),
  (5, 'voice_notes', (SELECT count(*) FROM public.voice_notes)),
  (6, 'chat_sessions', (SELECT count(*) FROM public.chat_sessions)),
  (7, 'chat_messages', (SELECT count(*) FROM public.chat_messages)),
  (8, 'storage.objects', (SELECT count(*) FROM storage.objects))
) AS tables(position, name, rows)
ORDER BY position
