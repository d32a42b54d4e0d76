-- A pass reached the end of its source: the next pass starts from the beginning.
INSERT INTO :"tool.high_water" (source_table, last_id, batches, pass, updated_at)
VALUES (%(source_table)s, NULL, %(batches)s, %(pass)s, clock_timestamp())
ON CONFLICT (source_table) DO UPDATE
SET last_id = NULL, pass = excluded.pass, updated_at = excluded.updated_at;
