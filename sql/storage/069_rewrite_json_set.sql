-- Rewrite many strings inside a JSON column at once, one per row (or the whole value, a top-level
-- JSON string, when its path is empty), each only while it still holds the value the plan saw;
-- it stays a JSON string. Paths travel as JSON arrays (a SQL array cannot nest). Returns the
-- rows it changed.
UPDATE :"target" AS t
SET :"target.column" = CASE WHEN cardinality(r.path) = 0 THEN to_jsonb(r.to_value)
                            ELSE jsonb_set(t.:"target.column", r.path, to_jsonb(r.to_value)) END
FROM (SELECT u.row_id, u.from_value, u.to_value,
             ARRAY(SELECT e.key FROM jsonb_array_elements_text(u.path_json) WITH ORDINALITY AS e (key, n)
                   ORDER BY e.n) AS path
      FROM unnest(%(row_ids)s::uuid[], %(paths)s::jsonb[], %(from_values)s::text[], %(to_values)s::text[])
             AS u (row_id, path_json, from_value, to_value)) AS r
WHERE t.:"target.id" = r.row_id
  AND jsonb_typeof(t.:"target.column" #> r.path) = 'string'
  AND t.:"target.column" #>> r.path = r.from_value
RETURNING t.:"target.id"
