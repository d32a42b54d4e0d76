-- Twins by matching the run's link candidates (005): the link plan (019) and forwarding use it.
matched AS (
  -- One twin per source row (explicit legacy id first), and one source row per twin. Two
  -- equality joins rather than one join on an OR, so each can be a hash or an index lookup.
  SELECT DISTINCT ON (x.source_table, x.source_id) x.source_table, x.source_id, x.twin_id
  FROM (
    SELECT d.source_table, d.source_id, lc.chat_message_id AS twin_id, 0 AS rank
    FROM decided AS d
    JOIN link_candidates AS lc ON lc.legacy_id = d.source_id
    WHERE d.reason IS NULL
    UNION ALL
    SELECT d.source_table, d.source_id, lc.chat_message_id, 1
    FROM decided AS d
    JOIN link_candidates AS lc
      ON lc.session_id = d.session_id AND lc.sender_id = d.sender_id AND lc.created_at = d.created_at
    WHERE d.reason IS NULL
      AND CASE WHEN d.source_table = 'voice_notes' THEN lc.file_url_md5 = coalesce(md5(d.file_url), '')
               ELSE lc.content_md5 = coalesce(md5(d.content), '') END
  ) AS x
  ORDER BY x.source_table, x.source_id, x.rank, x.twin_id
),
twins AS (
  SELECT DISTINCT ON (m.twin_id) m.source_table, m.source_id, m.twin_id
  FROM matched AS m
  ORDER BY m.twin_id, m.source_table, m.source_id
)
