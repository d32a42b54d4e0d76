-- One forwarder at a time: merge, sync and cut-over each take this lock in every forwarding
-- transaction before they take log entries, so two never forward the same change (the second
-- takes what the first left, once the first committed). The transaction's writes are the
-- tool's: chat_messages' write-back trigger does not log them, so they never go back.
SELECT pg_advisory_xact_lock(%(classid)s, %(objid)s),
       set_config('consolidation.writer', 'forward', true);
