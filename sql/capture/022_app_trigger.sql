-- Write-back on: every change the new app makes to chat_messages is logged in its transaction.
CREATE OR REPLACE TRIGGER consolidation_write_back
  AFTER INSERT OR UPDATE OR DELETE ON :"chat_messages"
  FOR EACH ROW EXECUTE FUNCTION :"tool.capture_app"();
