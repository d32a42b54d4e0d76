-- A row the batch statements fail on by itself (a batch halved down to this one row still
-- failed): quarantined with the database's error as its detail, so the rows after it go on. Its
-- snapshot is the whole row unless taking that is what fails (then only its id).
INSERT INTO :"tool.quarantine" (source_table, source_id, reason, detail, batch, source_checksum, snapshot)
SELECT %(source_table)s, %(source_id)s, 'merge_error', %(detail)s, %(batch)s,
       CASE %(source_table)s
         WHEN 'messages' THEN (SELECT hash_record_extended(m, 0)::text FROM :"messages" AS m
                               WHERE m.:"messages.id" = %(source_id)s)
         ELSE (SELECT hash_record_extended(v, 0)::text FROM :"voice_notes" AS v
               WHERE v.:"voice_notes.id" = %(source_id)s)
       END,
       CASE WHEN NOT %(snapshot)s THEN jsonb_build_object('id', %(source_id)s)
            WHEN %(source_table)s = 'messages' THEN (SELECT to_jsonb(m) FROM :"messages" AS m
                                                     WHERE m.:"messages.id" = %(source_id)s)
            ELSE (SELECT to_jsonb(v) FROM :"voice_notes" AS v WHERE v.:"voice_notes.id" = %(source_id)s)
       END;
