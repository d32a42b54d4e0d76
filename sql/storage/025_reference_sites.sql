-- Every place a reference may sit in the rows of `holders` (020, 021 or 022): the file column,
-- and every string inside the JSON, at any depth and as the whole value (a top-level JSON
-- string is a reference like any other, its path empty). The JSON is walked level by level by
-- the recursive query, not by recursion, so no depth is too deep; only strings holding a '/'
-- can be a URL or a bucket/path, so no other string is returned.
walk (row_id, json_path, value) AS (
  SELECT h.row_id, '{}'::text[], h.metadata
  FROM holders AS h
  WHERE h.metadata IS NOT NULL
  UNION ALL
  SELECT w.row_id, w.json_path || inner_value.key, inner_value.value
  FROM walk AS w
  CROSS JOIN LATERAL (
    SELECT o.key, o.value
    FROM jsonb_each(CASE WHEN jsonb_typeof(w.value) = 'object' THEN w.value END) AS o
    UNION ALL
    SELECT (a.position - 1)::text, a.value
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.value) = 'array' THEN w.value END)
           WITH ORDINALITY AS a (value, position)
  ) AS inner_value
  WHERE jsonb_typeof(w.value) IN ('object', 'array')
),
sites AS (
  SELECT h.row_id, 'file_url' AS column_name, '{}'::text[] AS json_path, h.file_url AS raw
  FROM holders AS h
  WHERE h.file_url IS NOT NULL AND h.file_url <> ''
  UNION ALL
  SELECT w.row_id, 'metadata', w.json_path, w.value #>> '{}'
  FROM walk AS w
  WHERE jsonb_typeof(w.value) = 'string' AND strpos(w.value #>> '{}', '/') > 0
)
SELECT h.table_name, h.row_id, h.session_id, h.sender_id, s.column_name, s.json_path, s.raw, h.context,
       h.copy_of
FROM sites AS s
JOIN holders AS h ON h.row_id = s.row_id
ORDER BY h.row_id, s.column_name, s.json_path
