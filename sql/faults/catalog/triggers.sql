-- Triggers a user created (change capture, delete protection), and whether they fire.
SELECT md5(ROW(n.nspname, pg_get_triggerdef(t.oid), t.tgenabled)::text)
FROM pg_trigger AS t
JOIN pg_class AS c ON c.oid = t.tgrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname = ANY (%(schemas)s);
