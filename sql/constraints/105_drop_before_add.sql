-- Makes a migration file re-runnable: the constraint is dropped if an earlier run left it, then
-- added again NOT VALID just below and validated by the next file (apply checks the catalog
-- instead and never runs this).
-- squawk-ignore ban-drop-constraint
ALTER TABLE :"table" DROP CONSTRAINT IF EXISTS :"constraint";
