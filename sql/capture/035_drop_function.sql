-- Merge's rollback: the capture function goes with the triggers that called it.
DROP FUNCTION IF EXISTS :"tool.capture_forward"();
