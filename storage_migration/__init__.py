"""Storage migration: inventory, reference parsing, backends, and the transfer journal."""
