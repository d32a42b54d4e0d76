-- The server's clock once a forwarding committed: its rows are visible to every reader from now.
SELECT clock_timestamp();
