-- chat_messages: participants read and send as themselves into their own sessions and edit
-- the content of their own messages; admins read all; only service_role deletes. Session
-- membership is one sub-select per statement (hashed), not a lookup per row.
ALTER TABLE :"chat_messages" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"chat_messages" FROM anon;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON :"chat_messages" FROM authenticated;
GRANT SELECT, INSERT, UPDATE ON :"chat_messages" TO authenticated;
GRANT ALL ON :"chat_messages" TO service_role;

CREATE POLICY "chat_messages: participants and admins read" ON :"chat_messages"
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (
    :"chat_messages.session_id" IN (
      SELECT :"helper.my_chat_sessions"()
    )
    OR (SELECT :"helper.is_chat_admin"())
  );

CREATE POLICY "chat_messages: participants send as themselves" ON :"chat_messages"
  AS PERMISSIVE FOR INSERT TO authenticated
  WITH CHECK (
    :"chat_messages.sender_id" = (SELECT auth.uid())
    AND :"chat_messages.session_id" IN (
      SELECT :"helper.my_chat_sessions"()
    )
  );

CREATE POLICY "chat_messages: senders edit their own" ON :"chat_messages"
  AS PERMISSIVE FOR UPDATE TO authenticated
  USING (
    :"chat_messages.sender_id" = (SELECT auth.uid())
    AND :"chat_messages.session_id" IN (
      SELECT :"helper.my_chat_sessions"()
    )
  )
  WITH CHECK (
    :"chat_messages.sender_id" = (SELECT auth.uid())
    AND :"chat_messages.session_id" IN (
      SELECT :"helper.my_chat_sessions"()
    )
  );

-- RLS decides rows, not columns: an edit may change the content only. A trigger rather than
-- column privileges, because PostgREST's upsert sets every column it was sent (unchanged
-- values pass), and the owner's own maintenance (postgres, service_role) stays unrestricted.
CREATE OR REPLACE FUNCTION :"helper.chat_messages_content_only"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF current_user IN ('anon', 'authenticated')
     AND to_jsonb(NEW) - TG_ARGV[0] IS DISTINCT FROM to_jsonb(OLD) - TG_ARGV[0] THEN
    RAISE EXCEPTION 'only the content of a chat message can be changed'
      USING ERRCODE = '42501', HINT = 'send a new message instead';
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION :"helper.chat_messages_content_only"() FROM PUBLIC, anon;

DROP TRIGGER IF EXISTS chat_messages_content_only ON :"chat_messages";
CREATE TRIGGER chat_messages_content_only BEFORE UPDATE ON :"chat_messages"
  FOR EACH ROW EXECUTE FUNCTION :"helper.chat_messages_content_only"(:'content_column');
