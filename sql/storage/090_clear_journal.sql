-- After a complete rollback: forget the transfers, rewrites and inventory of the move it undid.
DELETE FROM :"tool.storage_rewrites";
DELETE FROM :"tool.storage_transfers";
DELETE FROM :"tool.storage_inventory"
