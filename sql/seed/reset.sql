-- Drop what a previous seed made: the legacy tables, the seeded users, the objects of the chat
-- buckets, and the tool's journal (it describes data that no longer exists).
DROP TABLE IF EXISTS public.chat_messages, public.chat_sessions, public.voice_notes,
  public.messages, public.bookings, public.profiles CASCADE;
DELETE FROM auth.users WHERE email LIKE '%@seed.invalid';
SELECT set_config('storage.allow_delete_query', 'true', true);
DELETE FROM storage.objects WHERE bucket_id IN ('chat-attachments', 'voice-notes', 'chat-files');
SELECT set_config('storage.allow_delete_query', 'false', true);
DROP SCHEMA IF EXISTS consolidation CASCADE;
