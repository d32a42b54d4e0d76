-- One invocation of the tool that writes: who, from where, with which configuration, on which
-- database cluster.
INSERT INTO :"tool.runs" (command, os_user, client_host, config_fingerprint, system_identifier, tool_version)
VALUES (%(command)s, %(os_user)s, %(client_host)s, %(config_fingerprint)s,
        (SELECT system_identifier::text FROM pg_control_system()), %(tool_version)s)
RETURNING id, system_identifier;
