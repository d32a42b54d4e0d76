-- Whether the legacy tables carry the cut-over marker policy (then the probe checks them).
SELECT count(*) = 2 FROM pg_policies
WHERE schemaname = %(schema)s AND tablename = ANY (%(tables)s) AND policyname = 'legacy: cut over, service_role only'
