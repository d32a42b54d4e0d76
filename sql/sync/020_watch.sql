-- What an idle sync looks at between rounds, cheaply (the pending entries' partial indexes, the
-- triggers' catalog rows): whether anything waits (legacy changes to forward, or the new app's
-- to write back), and whether capture is still on.
SELECT EXISTS (SELECT 1 FROM :"tool.capture_log" WHERE forwarded_at IS NULL)
       OR EXISTS (SELECT 1 FROM :"tool.app_log" WHERE written_back_at IS NULL) AS waiting,
       (SELECT count(*) FROM pg_trigger
        WHERE tgname = 'consolidation_capture'
          AND tgrelid IN (%(messages)s::regclass, %(voice_notes)s::regclass)) = 2 AS capturing;
