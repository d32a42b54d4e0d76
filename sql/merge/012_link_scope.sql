-- The the source rows the link plan (019) decides: without a fate or a plan yet, not captured (the
-- forwarder's), and sharing a legacy id or a (sender, created_at) with a link candidate. Two
-- semi-joins, each a hashed lookup into the (small) candidate set, over one scan of the table.
WHERE (:"alias".:"source.id" IN (SELECT lc.legacy_id FROM link_candidates AS lc WHERE lc.legacy_id IS NOT NULL)
       OR (:"alias".:"source.sender", :"alias".:"source.created_at")
          IN (SELECT lc.sender_id, lc.created_at FROM link_candidates AS lc))
  AND NOT EXISTS (SELECT 1 FROM :"tool.capture_log" AS cl
                  WHERE cl.source_table = :'source_table' AND cl.source_id = :"alias".:"source.id")
  AND NOT EXISTS (SELECT 1 FROM :"tool.link_plan" AS lp
                  WHERE lp.source_table = :'source_table' AND lp.source_id = :"alias".:"source.id")
  AND NOT EXISTS (SELECT 1 FROM :"tool.provenance" AS p
                  WHERE p.source_table = :'source_table' AND p.source_id = :"alias".:"source.id")
  AND NOT EXISTS (SELECT 1 FROM :"tool.quarantine" AS q
                  WHERE q.source_table = :'source_table' AND q.source_id = :"alias".:"source.id")
  AND NOT EXISTS (SELECT 1 FROM :"tool.excluded" AS e
                  WHERE e.source_table = :'source_table' AND e.source_id = :"alias".:"source.id")
