-- A pass reached the end of its part: the next pass starts from the part's beginning.
UPDATE :"tool.high_water"
SET last_id = NULL, pass = %(pass)s, updated_at = clock_timestamp()
WHERE source_table = %(source_table)s AND part = %(part)s;
