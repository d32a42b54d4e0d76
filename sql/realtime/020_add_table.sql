-- Realtime streams this table's changes from now on.
ALTER PUBLICATION :"publication" ADD TABLE :"table";
