-- Rewrite many column values at once, each only while it still holds the value the plan saw;
-- returns the rows it changed (the others were changed meanwhile: left alone).
UPDATE :"target" AS t SET :"target.column" = r.to_value
FROM unnest(%(row_ids)s::uuid[], %(from_values)s::text[], %(to_values)s::text[]) AS r (row_id, from_value, to_value)
WHERE t.:"target.id" = r.row_id AND t.:"target.column" = r.from_value
RETURNING t.:"target.id"
