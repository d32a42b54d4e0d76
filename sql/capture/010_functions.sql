-- The capture triggers' functions: log the changed row's key and nothing else, so an app write
-- pays one small insert and can never fail on the mapping. SECURITY DEFINER with a pinned
-- search_path: the app's roles write the log without any privilege on the tool's schema.
-- The key is read as a field of the row (TG_ARGV[0] names the source; PL/pgSQL resolves a
-- field only in the branch that runs), not through the whole row turned into JSON.
CREATE OR REPLACE FUNCTION :"tool.capture_forward"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  old_key uuid;
  new_key uuid;
BEGIN
  -- The tool's own writes to the legacy rows (the storage phase rewriting a reference alike in
  -- the chat message, seen through by verify; sync writing back the new app's messages) are not
  -- the legacy app's: there is nothing to carry over, so nothing is logged.
  IF current_setting('consolidation.writer', true) IS NOT NULL
     AND current_setting('consolidation.writer', true) <> '' THEN
    RETURN NULL;
  END IF;
  IF TG_ARGV[0] = 'messages' THEN
    IF TG_OP <> 'INSERT' THEN old_key := OLD.:"messages.id"; END IF;
    IF TG_OP <> 'DELETE' THEN new_key := NEW.:"messages.id"; END IF;
  ELSE
    IF TG_OP <> 'INSERT' THEN old_key := OLD.:"voice_notes.id"; END IF;
    IF TG_OP <> 'DELETE' THEN new_key := NEW.:"voice_notes.id"; END IF;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO :"tool.capture_log" (source_table, source_id, operation)
    VALUES (TG_ARGV[0], old_key, TG_OP);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND new_key IS DISTINCT FROM old_key) THEN
    -- A new row, or an update that changed the key: the new key is a row of its own.
    INSERT INTO :"tool.capture_log" (source_table, source_id, operation)
    VALUES (TG_ARGV[0], new_key, 'INSERT');
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION :"tool.capture_forward"() FROM PUBLIC;
