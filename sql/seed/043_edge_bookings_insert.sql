INSERT INTO public.bookings (id, user_id, reader_id, status, created_at)
SELECT e.id, e.user_id, e.reader_id, 'active', e.created_at
FROM seed_edge_bookings AS e
