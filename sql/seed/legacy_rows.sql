-- Whether the (existing) legacy tables hold any row.
SELECT EXISTS (SELECT 1 FROM public.messages) OR EXISTS (SELECT 1 FROM public.voice_notes)
       OR EXISTS (SELECT 1 FROM public.bookings) OR EXISTS (SELECT 1 FROM public.profiles)
       OR EXISTS (SELECT 1 FROM public.chat_sessions) OR EXISTS (SELECT 1 FROM public.chat_messages)
