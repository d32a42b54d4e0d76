-- The given extensions this build ships, and the schema each is installed in (NULL: not installed).
SELECT a.name::text, e.extnamespace::regnamespace::text
FROM pg_available_extensions AS a
LEFT JOIN pg_extension AS e ON e.extname = a.name
WHERE a.name = ANY (%(extensions)s::text[])
ORDER BY 1
