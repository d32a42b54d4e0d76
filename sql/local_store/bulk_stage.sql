-- Staging for a bulk write: rows arrive by COPY, then one INSERT moves them into storage.objects.
CREATE TEMPORARY TABLE IF NOT EXISTS local_store_bulk (
  id uuid NOT NULL,
  bucket_id text NOT NULL,
  name text NOT NULL,
  owner uuid,
  metadata jsonb NOT NULL,
  version text NOT NULL,
  created_at timestamptz NOT NULL
) ON COMMIT DELETE ROWS
