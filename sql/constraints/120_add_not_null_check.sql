-- NOT NULL in three steps: this check (NOT VALID, a catalog change), its validation (a scan
-- that blocks no reads or writes), then SET NOT NULL, which uses the validated check instead
-- of scanning the table under an exclusive lock.
ALTER TABLE :"table"
  ADD CONSTRAINT :"constraint" CHECK (:"column" IS NOT NULL)
  NOT VALID;
