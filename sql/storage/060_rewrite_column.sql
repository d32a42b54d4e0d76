-- Rewrite one column value, only while it still holds the value the plan saw.
UPDATE :"target" SET :"target.column" = %(to_value)s
WHERE :"target.id" = %(row_id)s AND :"target.column" = %(from_value)s
