-- The part's keyset position after a row quarantined on its own (076), committed with it.
UPDATE :"tool.high_water"
SET last_id = %(last_id)s, batches = %(batches)s, pass = %(pass)s, updated_at = clock_timestamp()
WHERE source_table = %(source_table)s AND part = %(part)s;
