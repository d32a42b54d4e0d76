-- Prove the existing rows: a scan under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on.
ALTER TABLE :"table" VALIDATE CONSTRAINT :"constraint";
