-- The objects the store must hold, in a stable order, with the ids and versions they get.
SELECT pg_temp.seed_uuid(%(seed)s, 'object:' || o.source_table, o.source_n) AS id,
       o.bucket, o.name, o.size, o.mimetype, o.owner,
       pg_temp.seed_uuid(%(seed)s, 'version:' || o.source_table, o.source_n)::text AS version,
       o.created_at
FROM seed_objects AS o
WHERE o.present
ORDER BY o.source_table, o.source_n
