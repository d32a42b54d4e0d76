-- Write-back off (configured off, cut-over, merge's rollback): the new app's changes are no
-- longer logged for the old app.
DROP TRIGGER IF EXISTS consolidation_write_back ON :"chat_messages";
