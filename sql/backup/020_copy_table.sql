-- A full copy of one table, read in the backup's single snapshot.
CREATE TABLE :"copy" AS TABLE :"source";
