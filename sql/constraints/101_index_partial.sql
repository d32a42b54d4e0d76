-- An index on the rows where the column is set: most messages reply to nothing, and the
-- foreign key's ON DELETE lookup (column = deleted id) only ever needs the set ones.
CREATE INDEX CONCURRENTLY IF NOT EXISTS :"index" ON :"table" (:"column")
  WHERE :"column" IS NOT NULL;
