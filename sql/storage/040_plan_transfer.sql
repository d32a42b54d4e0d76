-- One planned copy; planning again keeps the row (and its state) the first plan wrote.
INSERT INTO :"tool.storage_transfers"
  (source_bucket, source_name, dest_bucket, dest_name, session_id, sender_id)
VALUES (%(source_bucket)s, %(source_name)s, %(dest_bucket)s, %(dest_name)s, %(session_id)s, %(sender_id)s)
ON CONFLICT DO NOTHING
