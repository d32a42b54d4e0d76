-- The number of the next backup on a database without the journal yet.
SELECT coalesce(max(substring(nspname FROM '^' || %(prefix)s || '([0-9]{1,9})$')::int), 0) + 1
FROM pg_namespace;
