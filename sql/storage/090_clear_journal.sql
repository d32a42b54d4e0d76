-- After a complete rollback: forget the transfers and rewrites it undid (the inventory stays).
DELETE FROM :"tool.storage_rewrites";
DELETE FROM :"tool.storage_transfers"
