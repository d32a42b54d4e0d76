-- The next logged changes of one source to forward, oldest first, up to the log id the
-- forwarding started at; a row changed several times is forwarded once, in its current state.
CREATE TEMP TABLE capture_batch ON COMMIT DROP AS
SELECT cl.source_table, cl.source_id, array_agg(cl.id) AS log_ids
FROM (SELECT l.id, l.source_table, l.source_id
      FROM :"tool.capture_log" AS l
      WHERE l.forwarded_at IS NULL AND l.source_table = %(source_table)s AND l.id <= %(upto)s
      ORDER BY l.id
      LIMIT %(batch_size)s) AS cl
GROUP BY cl.source_table, cl.source_id;
