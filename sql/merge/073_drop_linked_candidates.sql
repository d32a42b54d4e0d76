-- A chat message linked once is nobody else's twin.
DELETE FROM link_candidates AS lc
USING merge_batch AS b
WHERE b.fate = 'linked' AND lc.chat_message_id = b.chat_message_id;
