-- Runs the journal recorded on other clusters than this one and the adopted ones, newest first:
-- a restored dump's journal, which applying here would continue.
SELECT system_identifier, count(*), max(started_at)
FROM :"tool.runs"
WHERE system_identifier <> ALL (%(known)s)
GROUP BY 1
ORDER BY 3 DESC;
