-- Capture off (cut-over): the legacy tables' changes are no longer logged.
DROP TRIGGER IF EXISTS consolidation_capture ON :"messages";
DROP TRIGGER IF EXISTS consolidation_capture ON :"voice_notes";
