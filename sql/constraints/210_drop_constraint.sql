-- Rollback: a constraint this phase added (never one that was there before).
-- squawk-ignore ban-drop-constraint
ALTER TABLE :"table" DROP CONSTRAINT IF EXISTS :"constraint";
