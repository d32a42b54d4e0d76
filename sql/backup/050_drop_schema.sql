-- Removes the backup and nothing else: everything in it was created by the backup phase.
DROP SCHEMA :"backup" CASCADE;
