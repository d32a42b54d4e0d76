-- The part's keyset position after this batch, committed with the batch itself.
UPDATE :"tool.high_water"
SET last_id = (SELECT b.source_id FROM merge_batch AS b ORDER BY b.source_id DESC LIMIT 1),
    batches = %(batches)s, pass = %(pass)s, updated_at = clock_timestamp()
WHERE source_table = %(source_table)s AND part = %(part)s
RETURNING last_id;
