-- The capture triggers' functions: log the changed row's key and nothing else, so an app write
-- pays one small insert and can never fail on the mapping. SECURITY DEFINER with a pinned
-- search_path: the app's roles write the log without any privilege on the tool's schema.
-- The key is read as a field of the row (TG_ARGV[0] names the source; PL/pgSQL resolves a
-- field only in the branch that runs), not through the whole row turned into JSON. A change the
-- storage phase makes itself (it sets consolidation.storage_rewrite in its transaction: a file
-- reference rewritten alike in the chat message, and seen through by verify) is logged as
-- forwarded already: there is nothing to carry over, and the backlog stays the app's.
CREATE OR REPLACE FUNCTION :"tool.capture_forward"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
  old_key uuid;
  new_key uuid;
  forwarded timestamptz := CASE WHEN current_setting('consolidation.storage_rewrite', true) = 'on'
                                THEN clock_timestamp() END;
BEGIN
  IF TG_ARGV[0] = 'messages' THEN
    IF TG_OP <> 'INSERT' THEN old_key := OLD.:"messages.id"; END IF;
    IF TG_OP <> 'DELETE' THEN new_key := NEW.:"messages.id"; END IF;
  ELSE
    IF TG_OP <> 'INSERT' THEN old_key := OLD.:"voice_notes.id"; END IF;
    IF TG_OP <> 'DELETE' THEN new_key := NEW.:"voice_notes.id"; END IF;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO :"tool.capture_log" (source_table, source_id, operation, forwarded_at)
    VALUES (TG_ARGV[0], old_key, TG_OP, forwarded);
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
