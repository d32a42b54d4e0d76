-- The roles that log in on Supabase get the stack's password: postgres, which every command
-- uses, and the logins of the API servers (PostgREST as authenticator, the Storage API and
-- Auth as their admin roles), so a real server can be pointed at the stack as on Supabase.
ALTER ROLE postgres WITH LOGIN PASSWORD %(password)s;
ALTER ROLE authenticator WITH LOGIN PASSWORD %(password)s;
ALTER ROLE supabase_storage_admin WITH LOGIN PASSWORD %(password)s;
ALTER ROLE supabase_auth_admin WITH LOGIN PASSWORD %(password)s;
