-- The legacy chat schema of SPEC, as production has it today: several messaging systems side
-- by side, no foreign keys on the chat tables, permissive (USING (true)) policies, and few
-- NOT NULLs: a booking may lack its reader (or user), a message its sender, type, metadata or
-- created_at, and types come in any case ('Image').
CREATE TABLE IF NOT EXISTS public.profiles (
  id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'reader', 'admin', 'super_admin')),
  display_name text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.bookings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid,
  reader_id uuid,
  status text NOT NULL CHECK (status IN ('pending', 'active', 'completed', 'cancelled')),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  booking_id uuid,
  sender_id uuid,
  recipient_id uuid,
  type text DEFAULT 'text' CHECK (lower(type) IN ('text', 'image', 'file', 'voice')),
  content text,
  file_url text,
  metadata jsonb DEFAULT '{}'::jsonb,
  created_at timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS messages_booking_id_idx ON public.messages (booking_id);

CREATE TABLE IF NOT EXISTS public.voice_notes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  context_type text NOT NULL,
  context_id uuid,
  file_url text NOT NULL,
  file_name text,
  file_size bigint,
  duration_seconds numeric(8, 2),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.chat_sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  participants uuid[] NOT NULL,
  type text NOT NULL CHECK (type IN ('booking', 'direct')),
  booking_id uuid,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_message_at timestamptz
);

CREATE TABLE IF NOT EXISTS public.chat_messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id uuid,
  sender_id uuid,
  type text CHECK (type IN ('text', 'image', 'file', 'audio')),
  content text,
  file_url text,
  file_name text,
  file_size bigint,
  duration_seconds numeric(8, 2),
  reply_to_message_id uuid,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz DEFAULT now()
);

ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.chat_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.chat_messages ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS "profiles are public" ON public.profiles;
CREATE POLICY "profiles are public" ON public.profiles FOR SELECT USING (true);
DROP POLICY IF EXISTS "bookings_access" ON public.bookings;
CREATE POLICY "bookings_access" ON public.bookings FOR ALL USING (true);
DROP POLICY IF EXISTS "messages_access" ON public.messages;
CREATE POLICY "messages_access" ON public.messages FOR ALL USING (true);
DROP POLICY IF EXISTS "voice_notes_access" ON public.voice_notes;
CREATE POLICY "voice_notes_access" ON public.voice_notes FOR ALL USING (true);
DROP POLICY IF EXISTS "chat_sessions_access" ON public.chat_sessions;
CREATE POLICY "chat_sessions_access" ON public.chat_sessions FOR ALL USING (true);
DROP POLICY IF EXISTS "chat_messages_access" ON public.chat_messages;
CREATE POLICY "chat_messages_access" ON public.chat_messages FOR ALL USING (true);

GRANT ALL ON public.profiles, public.bookings, public.messages, public.voice_notes,
  public.chat_sessions, public.chat_messages TO anon, authenticated, service_role;

INSERT INTO storage.buckets (id, name, public) VALUES
  ('chat-attachments', 'chat-attachments', true),
  ('voice-notes', 'voice-notes', false),
  ('chat-files', 'chat-files', false)
ON CONFLICT (id) DO NOTHING;

DROP POLICY IF EXISTS "chat attachments are readable" ON storage.objects;
CREATE POLICY "chat attachments are readable" ON storage.objects FOR SELECT
  USING (bucket_id = 'chat-attachments');
DROP POLICY IF EXISTS "signed-in users manage voice notes" ON storage.objects;
CREATE POLICY "signed-in users manage voice notes" ON storage.objects FOR ALL TO authenticated
  USING (bucket_id = 'voice-notes') WITH CHECK (bucket_id = 'voice-notes');
