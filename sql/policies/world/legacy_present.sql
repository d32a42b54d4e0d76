-- Which of the legacy tables (by their configuration key) exist: the probe skips the others.
SELECT t.key FROM unnest(%(keys)s::text[], %(tables)s::text[]) AS t (key, name)
JOIN pg_class AS c ON c.relname = t.name AND c.relkind IN ('r', 'p')
JOIN pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = %(schema)s
