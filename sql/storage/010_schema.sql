-- The storage phase's transfer journal: what the legacy buckets held (inventory), every
-- copy it makes (transfers) and every reference it rewrites (rewrites), each with its state,
-- so a killed run resumes where it stopped and rollback restores exactly.
CREATE TABLE IF NOT EXISTS :"tool.storage_inventory" (
  bucket text NOT NULL,
  name text NOT NULL,
  size bigint NOT NULL,
  sha256 text NOT NULL,
  etag text,
  content_type text,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (bucket, name)
);

-- One row per copy: a source object referenced from two sessions has two rows. The source is
-- deleted only once every row of it is 'rewritten' (copy verified, references rewritten).
CREATE TABLE IF NOT EXISTS :"tool.storage_transfers" (
  source_bucket text NOT NULL,
  source_name text NOT NULL,
  dest_bucket text NOT NULL,
  dest_name text NOT NULL,
  session_id uuid,
  sender_id uuid,
  state text NOT NULL DEFAULT 'planned'
    CHECK (state IN ('planned', 'verified', 'rewritten', 'source_deleted', 'failed')),
  dest_sha256 text,
  detail text,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (source_bucket, source_name, dest_name),
  UNIQUE (dest_bucket, dest_name),
  FOREIGN KEY (source_bucket, source_name) REFERENCES :"tool.storage_inventory" (bucket, name)
);

-- One row per reference: a column value, or one string inside a JSON column (json_path), with
-- the value before and after. 'stale' means the row changed under us and was left alone.
CREATE TABLE IF NOT EXISTS :"tool.storage_rewrites" (
  table_name text NOT NULL,
  row_id uuid NOT NULL,
  column_name text NOT NULL,
  json_path text[] NOT NULL DEFAULT '{}',
  old_value text NOT NULL,
  new_value text NOT NULL,
  source_bucket text NOT NULL,
  source_name text NOT NULL,
  dest_name text NOT NULL,
  state text NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'rewritten', 'stale')),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (table_name, row_id, column_name, json_path),
  FOREIGN KEY (source_bucket, source_name, dest_name)
    REFERENCES :"tool.storage_transfers" (source_bucket, source_name, dest_name)
);
CREATE INDEX IF NOT EXISTS storage_rewrites_transfer_idx
  ON :"tool.storage_rewrites" (source_bucket, source_name, dest_name);
