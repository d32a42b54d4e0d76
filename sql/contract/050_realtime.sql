-- Realtime's part of the contract: the supabase_realtime publication (created empty by the init
-- script, as postgres, so postgres owns it and an app's migration can add its tables) and the
-- realtime schema with realtime.messages and realtime.topic(), which Realtime authorization
-- policies use (supabase/realtime's tenant migrations). The Realtime server itself, and the
-- daily partitions it creates for messages, are not part of the stack.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    CREATE PUBLICATION supabase_realtime;
  END IF;
END
$$;
ALTER PUBLICATION supabase_realtime OWNER TO postgres;

CREATE SCHEMA IF NOT EXISTS realtime AUTHORIZATION supabase_admin;
ALTER SCHEMA realtime OWNER TO supabase_admin;
GRANT ALL ON SCHEMA realtime TO supabase_realtime_admin;
GRANT USAGE ON SCHEMA realtime TO anon, authenticated, service_role;
REVOKE ALL ON SCHEMA realtime FROM postgres;
GRANT USAGE ON SCHEMA realtime TO postgres WITH GRANT OPTION;

CREATE TABLE IF NOT EXISTS realtime.messages (
  topic text NOT NULL,
  extension text NOT NULL,
  payload jsonb,
  event text,
  private boolean DEFAULT false,
  updated_at timestamp NOT NULL DEFAULT now(),
  inserted_at timestamp NOT NULL DEFAULT now(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  binary_payload bytea,
  CONSTRAINT messages_pkey PRIMARY KEY (id, inserted_at),
  CONSTRAINT messages_payload_exclusive CHECK (payload IS NULL OR binary_payload IS NULL)
) PARTITION BY RANGE (inserted_at);
ALTER TABLE realtime.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE realtime.messages OWNER TO supabase_realtime_admin;
GRANT SELECT, INSERT, UPDATE ON realtime.messages TO postgres, anon, authenticated, service_role;

-- The channel a Realtime authorization check is about (Realtime sets realtime.topic).
CREATE OR REPLACE FUNCTION realtime.topic() RETURNS text
  LANGUAGE sql STABLE
AS $$
  SELECT nullif(current_setting('realtime.topic', true), '')::text;
$$;
ALTER FUNCTION realtime.topic() OWNER TO supabase_realtime_admin;
GRANT EXECUTE ON FUNCTION realtime.topic() TO postgres, anon, authenticated, service_role;
