INSERT INTO public.profiles (id, role, display_name, created_at)
SELECT u.id, u.role, u.display_name, u.created_at + interval '1 second'
FROM seed_users AS u
WHERE u.has_profile
