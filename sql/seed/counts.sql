-- Rows per table the seed filled.
SELECT 'auth.users', count(*) FROM auth.users
UNION ALL SELECT 'profiles', count(*) FROM public.profiles
UNION ALL SELECT 'bookings', count(*) FROM public.bookings
UNION ALL SELECT 'messages', count(*) FROM public.messages
UNION ALL SELECT 'voice_notes', count(*) FROM public.voice_notes
UNION ALL SELECT 'chat_sessions', count(*) FROM public.chat_sessions
UNION ALL SELECT 'chat_messages', count(*) FROM public.chat_messages
UNION ALL SELECT 'storage.objects', count(*) FROM storage.objects
