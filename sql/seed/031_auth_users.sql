-- Their auth.users rows, shaped as GoTrue writes them for an e-mail sign-up.
INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        last_sign_in_at, raw_app_meta_data, raw_user_meta_data, is_super_admin,
                        created_at, updated_at, is_sso_user, is_anonymous)
SELECT '00000000-0000-0000-0000-000000000000'::uuid, u.id, 'authenticated', 'authenticated',
       'user' || u.i || '@seed.invalid',
       '$2a$10$' || substr(md5(%(seed)s || ':password:' || u.i) || md5(u.id::text), 1, 53),
       u.created_at + interval '5 minutes',
       u.created_at + make_interval(days => pg_temp.seed_int(%(seed)s, 'user-sign-in', u.i, 300)::int),
       '{"provider": "email", "providers": ["email"]}'::jsonb,
       jsonb_build_object('display_name', u.display_name, 'email_verified', true),
       false, u.created_at, u.created_at, false, false
FROM seed_users AS u
