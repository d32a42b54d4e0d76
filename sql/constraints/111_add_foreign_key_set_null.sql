-- A foreign key whose referenced row may go away: the reference is cleared, the row stays.
ALTER TABLE :"table"
  ADD CONSTRAINT :"constraint" FOREIGN KEY (:"column") REFERENCES :"referenced" (:"referenced_column")
  ON DELETE SET NULL
  NOT VALID;
