-- Whether each legacy source has its capture trigger, and how many logged changes wait.
SELECT (SELECT count(*) FROM pg_trigger
        WHERE tgrelid = %(messages)s::regclass AND tgname = 'consolidation_capture') AS messages,
       (SELECT count(*) FROM pg_trigger
        WHERE tgrelid = %(voice_notes)s::regclass AND tgname = 'consolidation_capture') AS voice_notes,
       (SELECT count(*) FROM :"tool.capture_log" WHERE forwarded_at IS NULL) AS pending,
       (SELECT count(*) FROM :"tool.capture_log") AS logged;
