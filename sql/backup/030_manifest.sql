-- What the backup holds: per table its source, row count and order-independent checksums of
-- the source and of the copy, taken in the same snapshot.
CREATE TABLE :"manifest" (
  table_name text PRIMARY KEY,
  source text NOT NULL,
  rows bigint NOT NULL,
  source_digest text NOT NULL,
  copy_digest text NOT NULL,
  verified boolean GENERATED ALWAYS AS (source_digest = copy_digest) STORED,
  taken_at timestamptz NOT NULL DEFAULT transaction_timestamp()
);
