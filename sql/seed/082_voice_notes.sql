INSERT INTO public.voice_notes (id, user_id, context_type, context_id, file_url, file_name,
                                file_size, duration_seconds, created_at)
SELECT p.id, p.user_id, p.context_type, p.context_id, o.reference, o.file_name, o.size,
       p.duration_seconds, p.created_at
FROM seed_voice_plan AS p
JOIN seed_objects AS o ON o.source_table = 'voice_notes' AND o.source_n = p.v
