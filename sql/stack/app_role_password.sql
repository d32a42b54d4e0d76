-- The demoted postgres role logs in with the stack's password, as the superuser does.
ALTER ROLE postgres WITH LOGIN PASSWORD %(password)s
