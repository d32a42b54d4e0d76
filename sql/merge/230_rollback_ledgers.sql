-- Rollback: merge's bookkeeping goes with what it described; a later merge starts afresh.
TRUNCATE :"tool.provenance", :"tool.quarantine", :"tool.excluded", :"tool.high_water",
         :"tool.link_plan", :"tool.session_changes", :"tool.session_sequence", :"tool.capture_log",
         :"tool.app_log";
