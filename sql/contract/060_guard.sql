-- A stand-in for supautils, which on Supabase lets postgres create, alter and drop policies on
-- auth, storage and realtime tables it does not own (supautils.policy_grants) and nothing else
-- an owner could. Here postgres holds the owners' rights through the admin roles
-- (010_roles.sql), so these event triggers refuse, with the error the owner check gives
-- (42501), every other change postgres makes there: ALTER TABLE storage.objects, CREATE INDEX
-- or FUNCTION in storage, DROP TRIGGER on auth.users, COMMENT ON... CREATE TRIGGER passes where
-- the table's own grants give its creator TRIGGER, as on Supabase. The admin roles and
-- superusers are not guarded.
CREATE OR REPLACE FUNCTION extensions.guard_reserved_schemas() RETURNS event_trigger
  LANGUAGE plpgsql
AS $$
DECLARE
  command record;
  reserved CONSTANT text[] := ARRAY['auth', 'storage', 'realtime'];
BEGIN
  IF current_user IN ('supabase_auth_admin', 'supabase_storage_admin', 'supabase_realtime_admin')
     OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RETURN;
  END IF;
  IF TG_EVENT = 'sql_drop' THEN
    FOR command IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
      IF command.schema_name = ANY (reserved) AND command.original
         AND command.object_type <> 'policy' THEN
        RAISE EXCEPTION 'must be owner of % %', command.object_type, command.object_identity
          USING ERRCODE = '42501',
                HINT = 'On Supabase only the owner (supabase_' || command.schema_name
                       || '_admin) may drop it; postgres may change only policies there.';
      END IF;
    END LOOP;
    RETURN;
  END IF;
  FOR command IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    CONTINUE WHEN command.command_tag IN ('CREATE POLICY', 'ALTER POLICY', 'GRANT', 'REVOKE');
    IF command.object_type = 'trigger' THEN
      -- A trigger has no schema of its own: its table's decides, and the table's grants.
      CONTINUE WHEN command.command_tag = 'CREATE TRIGGER' AND EXISTS (
        SELECT FROM pg_trigger AS t
        JOIN pg_class AS c ON c.oid = t.tgrelid
        CROSS JOIN LATERAL aclexplode(c.relacl) AS acl
        WHERE t.oid = command.objid AND acl.privilege_type = 'TRIGGER'
          AND acl.grantee IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user))
      );
      IF EXISTS (SELECT FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
                 WHERE t.oid = command.objid AND c.relnamespace::regnamespace::text = ANY (reserved)) THEN
        RAISE EXCEPTION 'permission denied to change trigger %', command.object_identity
          USING ERRCODE = '42501',
                HINT = 'On Supabase postgres needs the TRIGGER privilege on the table, or to own it.';
      END IF;
      CONTINUE;
    END IF;
    IF command.schema_name = ANY (reserved)
       OR (command.object_type = 'schema' AND command.object_identity = ANY (reserved)) THEN
      IF command.command_tag LIKE 'CREATE %' AND command.command_tag <> 'CREATE INDEX' THEN
        RAISE EXCEPTION 'permission denied for schema %', command.schema_name
          USING ERRCODE = '42501', HINT = 'On Supabase postgres has no CREATE on this schema.';
      END IF;
      RAISE EXCEPTION 'must be owner of % %', command.object_type, command.object_identity
        USING ERRCODE = '42501',
              HINT = 'On Supabase postgres may change only policies on auth, storage and realtime tables.';
    END IF;
  END LOOP;
END
$$;
ALTER FUNCTION extensions.guard_reserved_schemas() OWNER TO supabase_admin;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'guard_reserved_schemas_ddl') THEN
    CREATE EVENT TRIGGER guard_reserved_schemas_ddl ON ddl_command_end
      EXECUTE FUNCTION extensions.guard_reserved_schemas();
  END IF;
  IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'guard_reserved_schemas_drop') THEN
    CREATE EVENT TRIGGER guard_reserved_schemas_drop ON sql_drop
      EXECUTE FUNCTION extensions.guard_reserved_schemas();
  END IF;
END
$$;
