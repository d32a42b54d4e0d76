-- A phase ends, completed or failed, with what it counted and the checksums it proved.
UPDATE :"tool.phase_records"
SET status = %(status)s, finished_at = clock_timestamp(), counts = %(counts)s,
    checksums = %(checksums)s, details = %(details)s, error = %(error)s
WHERE id = %(id)s;
