-- Twins as the link plan (019) decided them before the batches: keyset batches use it, so no two
-- parts merged side by side claim one chat message, whatever the batch boundaries. (A twin only
-- counts for a row without a reason to be quarantined or excluded: 024 decides those first.)
twins AS (
  SELECT lp.source_table, lp.source_id, lp.chat_message_id AS twin_id
  FROM :"tool.link_plan" AS lp
  WHERE lp.chat_message_id IS NOT NULL
)
