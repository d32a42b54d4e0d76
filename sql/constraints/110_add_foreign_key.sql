-- A foreign key checked for new and changed rows at once, existing rows validated later:
-- NOT VALID makes this a catalog change under a brief lock. Deleting a referenced row stays
-- refused while messages point at it (no silent cascade of messages).
ALTER TABLE :"table"
  ADD CONSTRAINT :"constraint" FOREIGN KEY (:"column") REFERENCES :"referenced" (:"referenced_column")
  NOT VALID;
