-- The storage phase's transfer journal: what the legacy buckets held (inventory), every
-- copy it makes (transfers) and every reference it rewrites (rewrites), each with its state,
-- so a killed run resumes where it stopped and rollback restores exactly.
CREATE TABLE IF NOT EXISTS :"tool.storage_inventory" (
  bucket text NOT NULL,
  name text NOT NULL,
  size bigint NOT NULL,
  sha256 text,
  etag text,
  content_type text,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (bucket, name)
);
-- sha256 is NULL for an object the backend cannot read (a key outside the Storage API's
-- alphabet): its copy is proved by the size and content hash (ETag) the server recorded.
ALTER TABLE :"tool.storage_inventory" ALTER COLUMN sha256 DROP NOT NULL;

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

-- One row per reference: a column value, or one string inside a JSON column (json_path; empty
-- for a whole top-level JSON string), with the value before and after. 'stale' means the row
-- changed under us and was left alone; 'failed' that the database refused the rewrite (detail
-- says why) and the row was left as it was. Keyed by a digest of the path: a path 1,000 levels
-- deep is too large for an index entry.
CREATE TABLE IF NOT EXISTS :"tool.storage_rewrites" (
  table_name text NOT NULL,
  row_id uuid NOT NULL,
  column_name text NOT NULL,
  json_path text[] NOT NULL DEFAULT '{}',
  path_key text NOT NULL,
  old_value text NOT NULL,
  new_value text NOT NULL,
  source_bucket text NOT NULL,
  source_name text NOT NULL,
  dest_name text NOT NULL,
  state text NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'rewritten', 'stale', 'failed')),
  detail text,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (table_name, row_id, column_name, path_key),
  FOREIGN KEY (source_bucket, source_name, dest_name)
    REFERENCES :"tool.storage_transfers" (source_bucket, source_name, dest_name)
);
CREATE INDEX IF NOT EXISTS storage_rewrites_transfer_idx
  ON :"tool.storage_rewrites" (source_bucket, source_name, dest_name);

-- A value as it was before the storage phase rewrote it (CURRENT when it was not rewritten),
-- so checks that compare rows with checksums taken before the move can see through it.
CREATE OR REPLACE FUNCTION :"tool.storage_original_text"(table_name text, row_id uuid, column_name text,
                                                         current text)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    (SELECT r.old_value FROM :"tool.storage_rewrites" AS r
     WHERE r.table_name = $1 AND r.row_id = $2 AND r.column_name = $3 AND r.json_path = '{}'
       AND r.state = 'rewritten' AND r.new_value = $4),
    $4)
$$;

CREATE OR REPLACE FUNCTION :"tool.storage_original_json"(table_name text, row_id uuid, column_name text,
                                                         current jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  rewrite record;
  result jsonb := current;
BEGIN
  FOR rewrite IN
    SELECT r.json_path, r.old_value, r.new_value FROM :"tool.storage_rewrites" AS r
    WHERE r.table_name = $1 AND r.row_id = $2 AND r.column_name = $3 AND r.state = 'rewritten'
  LOOP
    IF jsonb_typeof(result #> rewrite.json_path) = 'string' AND result #>> rewrite.json_path = rewrite.new_value THEN
      -- An empty path is the whole value: a top-level JSON string.
      result := CASE WHEN cardinality(rewrite.json_path) = 0 THEN to_jsonb(rewrite.old_value)
                     ELSE jsonb_set(result, rewrite.json_path, to_jsonb(rewrite.old_value)) END;
    END IF;
  END LOOP;
  RETURN result;
END
$$;
