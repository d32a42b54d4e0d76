SELECT u.id, u.email, coalesce(u.raw_app_meta_data, '{}'::jsonb) FROM auth.users AS u WHERE u.id = %(id)s
