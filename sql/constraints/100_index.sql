-- An index on one column, built without blocking writes (outside any transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS :"index" ON :"table" (:"column");
