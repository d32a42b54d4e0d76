-- The capture triggers' functions: log the changed row's key and nothing else, so an app write
-- pays one small insert and can never fail on the mapping. SECURITY DEFINER with a pinned
-- search_path: the app's roles write the log without any privilege on the tool's schema.
CREATE OR REPLACE FUNCTION :"tool.capture_forward"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO :"tool.capture_log" (source_table, source_id, operation)
    SELECT TG_ARGV[0], (to_jsonb(OLD) ->> TG_ARGV[1])::uuid, TG_OP;
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND to_jsonb(NEW) -> TG_ARGV[1] IS DISTINCT FROM to_jsonb(OLD) -> TG_ARGV[1]) THEN
    -- A new row, or an update that changed the key: the new key is a row of its own.
    INSERT INTO :"tool.capture_log" (source_table, source_id, operation)
    SELECT TG_ARGV[0], (to_jsonb(NEW) ->> TG_ARGV[1])::uuid, 'INSERT';
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION :"tool.capture_forward"() FROM PUBLIC;
