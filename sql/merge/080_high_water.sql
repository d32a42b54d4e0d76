-- The keyset position after this batch, committed with the batch itself.
INSERT INTO :"tool.high_water" (source_table, last_id, batches, pass, updated_at)
VALUES (%(source_table)s, (SELECT b.source_id FROM merge_batch AS b ORDER BY b.source_id DESC LIMIT 1),
        %(batch)s, %(pass)s,
        clock_timestamp())
ON CONFLICT (source_table) DO UPDATE
SET last_id = excluded.last_id, batches = excluded.batches, pass = excluded.pass,
    updated_at = excluded.updated_at
RETURNING last_id;
