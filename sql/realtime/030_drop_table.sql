-- Realtime no longer streams this table's changes.
ALTER PUBLICATION :"publication" DROP TABLE :"table";
