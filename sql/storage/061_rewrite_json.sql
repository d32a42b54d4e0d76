-- Rewrite one string inside a JSON column, only while it still holds the value the plan saw.
UPDATE :"target" SET :"target.column" = jsonb_set(:"target.column", %(json_path)s::text[], to_jsonb(%(to_value)s::text))
WHERE :"target.id" = %(row_id)s AND :"target.column" #>> %(json_path)s::text[] = %(from_value)s
