-- A probe user (rolled back with the probe): an account and a profile with the given role.
WITH account AS (
  INSERT INTO auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at)
  VALUES (%(id)s, 'authenticated', 'authenticated', %(email)s, %(app_metadata)s, '{}', now())
  RETURNING id
)
INSERT INTO :"profiles" (:"profiles.id", :"profiles.role")
SELECT id, %(role)s FROM account
