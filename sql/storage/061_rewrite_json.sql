-- Rewrite one string inside a JSON column (or the whole value, a top-level JSON string, when the
-- path is empty), only while it still holds the value the plan saw; it stays a JSON string.
UPDATE :"target"
SET :"target.column" = CASE WHEN cardinality(%(json_path)s::text[]) = 0 THEN to_jsonb(%(to_value)s::text)
                            ELSE jsonb_set(:"target.column", %(json_path)s::text[], to_jsonb(%(to_value)s::text)) END
WHERE :"target.id" = %(row_id)s
  AND jsonb_typeof(:"target.column" #> %(json_path)s::text[]) = 'string'
  AND :"target.column" #>> %(json_path)s::text[] = %(from_value)s
