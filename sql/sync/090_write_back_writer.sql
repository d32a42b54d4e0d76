-- A write-back transaction's writes are the tool's: the legacy tables' capture trigger does not
-- log them, so a message written back is never forwarded again.
SELECT set_config('consolidation.writer', 'write_back', true);
