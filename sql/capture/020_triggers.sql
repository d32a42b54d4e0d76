-- Capture on: every change to a legacy source row is logged in the writing transaction.
CREATE OR REPLACE TRIGGER consolidation_capture
  AFTER INSERT OR UPDATE OR DELETE ON :"messages"
  FOR EACH ROW EXECUTE FUNCTION :"tool.capture_forward"('messages', :'messages.id');
CREATE OR REPLACE TRIGGER consolidation_capture
  AFTER INSERT OR UPDATE OR DELETE ON :"voice_notes"
  FOR EACH ROW EXECUTE FUNCTION :"tool.capture_forward"('voice_notes', :'voice_notes.id');
