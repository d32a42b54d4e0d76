-- The database cluster's identity (reading pg_control_system() writes nothing).
SELECT system_identifier::text FROM pg_control_system();
