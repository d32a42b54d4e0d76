-- Hold each named object's lock (bucket/name) until the transaction ends, in key order so two
-- writers never wait on each other in a cycle: a write and the sweep of a killed write's leftover
-- files never overlap another write of the same object.
SELECT count(pg_advisory_xact_lock(key))
FROM (SELECT DISTINCT hashtextextended(object, 0) AS key
      FROM unnest(%(objects)s::text[]) AS object
      ORDER BY 1) AS ordered
