-- Merge's rollback: the write-back function goes with the trigger that called it.
DROP FUNCTION IF EXISTS :"tool.capture_app"();
