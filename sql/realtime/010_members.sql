-- The Realtime publication as it stands: whether it exists (a row), whether it streams every
-- table, and the tables it names (one row each; NULL when it names none).
SELECT p.puballtables, t.schemaname::text, t.tablename::text
FROM pg_publication AS p
LEFT JOIN pg_publication_tables AS t ON t.pubname = p.pubname AND NOT p.puballtables
WHERE p.pubname = %(publication)s
ORDER BY 2, 3;
