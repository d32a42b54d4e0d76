-- The file names uploads carry, by group (plain, with spaces, non-ASCII, voice...), with the
-- percent-encoded form URLs use; the caller passes them so the encoding is exactly Python's.
CREATE TEMPORARY TABLE seed_file_names AS
SELECT f.group_name, f.leaf, f.leaf_url, f.mimetype,
       CASE WHEN f.mimetype LIKE 'image/%%' THEN 'image'
            WHEN f.mimetype LIKE 'audio/%%' THEN 'voice'
            ELSE 'file' END AS kind,
       row_number() OVER (PARTITION BY f.group_name ORDER BY f.ordinality) AS pos,
       count(*) OVER (PARTITION BY f.group_name) AS group_size
FROM ROWS FROM (jsonb_to_recordset(%(file_names)s::jsonb)
                AS (group_name text, leaf text, leaf_url text, mimetype text)) WITH ORDINALITY
       AS f(group_name, leaf, leaf_url, mimetype, ordinality)
