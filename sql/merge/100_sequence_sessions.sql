-- The next sessions to sequence: every session merge wrote into, in id order after the mark.
CREATE TEMP TABLE sequence_sessions ON COMMIT DROP AS
SELECT sc.session_id
FROM :"tool.session_changes" AS sc
WHERE sc.session_id >= %(low)s AND (sc.session_id > %(low)s OR %(inclusive)s)
ORDER BY sc.session_id
LIMIT %(batch_size)s;
