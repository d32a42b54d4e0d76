-- For the link plan: a chat message an earlier run already planned as some row's twin is not
-- offered again (that row keeps it).
DELETE FROM link_candidates AS lc
USING :"tool.link_plan" AS lp
WHERE lp.chat_message_id = lc.chat_message_id;
