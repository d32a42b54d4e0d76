-- The write-back trigger's function: log the new app's change to a chat message by its key, so
-- an app write pays one small insert. The tool's own writes (forwarding legacy changes, the
-- storage phase's rewrites of references alike) set consolidation.writer and are not logged:
-- what sync forwarded is never written back, so nothing loops.
CREATE OR REPLACE FUNCTION :"tool.capture_app"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  IF current_setting('consolidation.writer', true) IS NOT NULL
     AND current_setting('consolidation.writer', true) <> '' THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO :"tool.app_log" (chat_message_id, operation) VALUES (OLD.:"chat_messages.id", TG_OP);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.:"chat_messages.id" IS DISTINCT FROM OLD.:"chat_messages.id") THEN
    INSERT INTO :"tool.app_log" (chat_message_id, operation) VALUES (NEW.:"chat_messages.id", 'INSERT');
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION :"tool.capture_app"() FROM PUBLIC;
