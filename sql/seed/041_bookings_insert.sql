INSERT INTO public.bookings (id, user_id, reader_id, status, created_at)
SELECT b.id, b.user_id, b.reader_id, b.status, b.created_at
FROM seed_bookings AS b
WHERE NOT b.deleted
