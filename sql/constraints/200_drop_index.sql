-- Rollback: an index this phase built, dropped without blocking reads or writes.
DROP INDEX CONCURRENTLY IF EXISTS :"index";
