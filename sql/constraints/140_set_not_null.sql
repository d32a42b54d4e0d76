-- SET NOT NULL skips its scan because the validated check proves no row is NULL; the check is
-- then redundant, so it goes, in the same brief transaction.
-- squawk-ignore adding-not-nullable-field
ALTER TABLE :"table" ALTER COLUMN :"column" SET NOT NULL;
-- The helper check's guarantee is now the column's own NOT NULL.
-- squawk-ignore ban-drop-constraint
ALTER TABLE :"table" DROP CONSTRAINT IF EXISTS :"constraint";
