-- Sessions on this database besides ours: a killed client's backend lives on until its statement ends.
SELECT count(*)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend';
