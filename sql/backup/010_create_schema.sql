-- The backup's own schema, named for the moment it was taken; nothing else lives in it.
CREATE SCHEMA :"backup";
REVOKE ALL ON SCHEMA :"backup" FROM PUBLIC;
