-- The next changes the new app made to chat_messages, oldest first; a message changed several
-- times is written back once, as it is now (up to the log id the run takes changes to).
CREATE TEMP TABLE write_back_batch ON COMMIT DROP AS
SELECT l.chat_message_id, array_agg(l.id) AS log_ids
FROM (SELECT a.id, a.chat_message_id
      FROM :"tool.app_log" AS a
      WHERE a.written_back_at IS NULL AND a.id <= %(upto)s
      ORDER BY a.id
      LIMIT %(batch_size)s) AS l
GROUP BY l.chat_message_id;
