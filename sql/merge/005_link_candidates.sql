-- The chat_messages rows a legacy row may already have been dual-written as, keyed by an explicit
-- legacy id in metadata and by (session, sender, created_at, content or file). Merge snapshots
-- this query into a temporary table once per run; plan reads it directly.
SELECT c.:"chat_messages.id" AS chat_message_id,
       CASE WHEN c.:"chat_messages.metadata" ->> 'legacy_message_id'
                 ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            THEN (c.:"chat_messages.metadata" ->> 'legacy_message_id')::uuid END AS legacy_id,
       c.:"chat_messages.session_id" AS session_id,
       c.:"chat_messages.sender_id" AS sender_id,
       c.:"chat_messages.created_at" AS created_at,
       coalesce(md5(c.:"chat_messages.content"), '') AS content_md5,
       coalesce(md5(c.:"chat_messages.file_url"), '') AS file_url_md5
FROM :"chat_messages" AS c
