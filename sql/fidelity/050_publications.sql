-- Publications: owner, whether they take every table, and what they publish.
SELECT pubname::text, pg_get_userbyid(pubowner)::text, puballtables,
       array_remove(ARRAY[CASE WHEN pubinsert THEN 'insert' END, CASE WHEN pubupdate THEN 'update' END,
                          CASE WHEN pubdelete THEN 'delete' END, CASE WHEN pubtruncate THEN 'truncate' END], NULL)
FROM pg_publication
ORDER BY 1
