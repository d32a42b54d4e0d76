-- Rollback: a NOT NULL this phase set (the column was nullable before).
-- squawk-ignore ban-drop-not-null
ALTER TABLE :"table" ALTER COLUMN :"column" DROP NOT NULL;
