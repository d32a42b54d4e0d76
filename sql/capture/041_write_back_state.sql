-- Whether chat_messages carries the way back's trigger (the new app's changes are logged).
SELECT EXISTS (SELECT FROM pg_trigger
               WHERE tgrelid = %(chat_messages)s::regclass AND tgname = 'consolidation_write_back');
