-- The storage schema as Supabase Storage's migrations leave it: buckets, objects, the
-- path helpers policies use, and the trigger that blocks deletes outside the Storage API.
-- Names, column order and volatility follow the Storage API server's own migrations, which
-- run cleanly on top of this when it connects as supabase_storage_admin, as on hosted Supabase
-- (they only add what the API itself needs: its migrations table, list functions, bucket
-- types, versioning columns; they replace functions, so it owns them all). postgres may use the schema and
-- pass that on, but not create in it (supabase/postgres 20250421084701, 20250709135250).
CREATE SCHEMA IF NOT EXISTS storage AUTHORIZATION supabase_admin;
ALTER SCHEMA storage OWNER TO supabase_admin;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin;
GRANT USAGE ON SCHEMA storage TO anon, authenticated, service_role;
REVOKE ALL ON SCHEMA storage FROM postgres;
GRANT USAGE ON SCHEMA storage TO postgres WITH GRANT OPTION;

CREATE TABLE IF NOT EXISTS storage.buckets (
  id text NOT NULL PRIMARY KEY,
  name text NOT NULL,
  owner uuid,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  public boolean DEFAULT false,
  avif_autodetection boolean DEFAULT false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text
);
CREATE UNIQUE INDEX IF NOT EXISTS bname ON storage.buckets USING btree (name);

CREATE TABLE IF NOT EXISTS storage.objects (
  id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  bucket_id text CONSTRAINT "objects_bucketId_fkey" REFERENCES storage.buckets (id),
  name text,
  owner uuid,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  last_accessed_at timestamptz DEFAULT now(),
  metadata jsonb,
  path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
  version text,
  owner_id text,
  user_metadata jsonb
);
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname ON storage.objects USING btree (bucket_id, name);
CREATE INDEX IF NOT EXISTS name_prefix_search ON storage.objects USING btree (name text_pattern_ops);
-- The Storage API's list and search functions walk these indexes in byte order (its list route
-- compares lower(name), since its migration 0051).
CREATE INDEX IF NOT EXISTS idx_objects_bucket_id_name ON storage.objects (bucket_id, name COLLATE "C");
CREATE INDEX IF NOT EXISTS idx_objects_bucket_id_name_lower ON storage.objects (bucket_id, lower(name) COLLATE "C");
-- Stacks made before the constraint had the Storage API's name keep working after a rename.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint
             WHERE conrelid = 'storage.objects'::regclass AND conname = 'objects_bucket_id_fkey') THEN
    ALTER TABLE storage.objects RENAME CONSTRAINT objects_bucket_id_fkey TO "objects_bucketId_fkey";
  END IF;
END
$$;

ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;

CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[]
  LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  _parts text[];
BEGIN
  SELECT string_to_array(name, '/') INTO _parts;
  RETURN _parts[1:array_length(_parts, 1) - 1];
END
$$;

CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  _parts text[];
BEGIN
  SELECT string_to_array(name, '/') INTO _parts;
  RETURN _parts[array_length(_parts, 1)];
END
$$;

CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  _parts text[];
  _filename text;
BEGIN
  SELECT string_to_array(name, '/') INTO _parts;
  SELECT _parts[array_length(_parts, 1)] INTO _filename;
  RETURN reverse(split_part(reverse(_filename), '.', 1));
END
$$;

CREATE OR REPLACE FUNCTION storage.update_updated_at_column() RETURNS trigger
  LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION storage.protect_delete() RETURNS trigger
  LANGUAGE plpgsql
AS $$
BEGIN
  -- Check if storage.allow_delete_query is set to 'true'
  IF COALESCE(current_setting('storage.allow_delete_query', true), 'false') != 'true' THEN
    RAISE EXCEPTION 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      USING HINT = 'This prevents accidental data loss from orphaned objects.',
            ERRCODE = '42501';
  END IF;
  RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS update_objects_updated_at ON storage.objects;
CREATE TRIGGER update_objects_updated_at BEFORE UPDATE ON storage.objects
  FOR EACH ROW EXECUTE FUNCTION storage.update_updated_at_column();
DROP TRIGGER IF EXISTS protect_buckets_delete ON storage.buckets;
CREATE TRIGGER protect_buckets_delete BEFORE DELETE ON storage.buckets
  FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();
DROP TRIGGER IF EXISTS protect_objects_delete ON storage.objects;
CREATE TRIGGER protect_objects_delete BEFORE DELETE ON storage.objects
  FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();

ALTER TABLE storage.buckets OWNER TO supabase_storage_admin;
ALTER TABLE storage.objects OWNER TO supabase_storage_admin;
ALTER FUNCTION storage.foldername(text) OWNER TO supabase_storage_admin;
ALTER FUNCTION storage.filename(text) OWNER TO supabase_storage_admin;
ALTER FUNCTION storage.extension(text) OWNER TO supabase_storage_admin;
ALTER FUNCTION storage.protect_delete() OWNER TO supabase_storage_admin;
ALTER FUNCTION storage.update_updated_at_column() OWNER TO supabase_storage_admin;
-- The owner's grants (0046-buckets-objects-grants), and postgres's with grant option
-- (0049): a REVOKE postgres runs takes back only what postgres itself granted.
GRANT ALL ON storage.buckets, storage.objects TO anon, authenticated, service_role;
GRANT ALL ON storage.buckets, storage.objects TO postgres WITH GRANT OPTION;

-- The operation the Storage API is performing (it sets storage.operation per request), for
-- policies that allow some operations only (0024-operation-function, 0058-operation-ergonomics).
CREATE OR REPLACE FUNCTION storage.operation() RETURNS text
  LANGUAGE plpgsql STABLE
AS $$
BEGIN
  RETURN current_setting('storage.operation', true);
END;
$$;

CREATE OR REPLACE FUNCTION storage.allow_only_operation(expected_operation text) RETURNS boolean
  LANGUAGE sql STABLE
AS $$
  SELECT coalesce(expected_operation, '') <> ''
     AND coalesce(regexp_replace(storage.operation(), '^storage\.', '')
                  = regexp_replace(expected_operation, '^storage\.', ''), false)
$$;

CREATE OR REPLACE FUNCTION storage.allow_any_operation(expected_operations text[]) RETURNS boolean
  LANGUAGE sql STABLE
AS $$
  SELECT EXISTS (
    SELECT 1 FROM unnest(expected_operations) AS expected (operation)
    WHERE coalesce(expected.operation, '') <> ''
      AND regexp_replace(storage.operation(), '^storage\.', '')
          = regexp_replace(expected.operation, '^storage\.', '')
  )
$$;

-- The list the Storage API's POST /object/list/<bucket> returns: one level below PREFIX,
-- folders (no id) and files, names relative to PREFIX, as the caller's policies allow
-- (SECURITY INVOKER), matched and sorted case-insensitively. Same signature and columns as the
-- Storage API's own function (0063-fix-search-name-relative-to-prefix); LEVELS is kept for the
-- signature only, as there.
CREATE OR REPLACE FUNCTION storage.search(
  prefix text,
  bucketname text,
  limits int DEFAULT 100,
  levels int DEFAULT 1,
  offsets int DEFAULT 0,
  search text DEFAULT '',
  sortcolumn text DEFAULT 'name',
  sortorder text DEFAULT 'asc'
) RETURNS TABLE (
  name text,
  id uuid,
  updated_at timestamptz,
  created_at timestamptz,
  last_accessed_at timestamptz,
  metadata jsonb
)
  LANGUAGE sql STABLE SECURITY INVOKER
AS $$
  WITH below AS (
    SELECT substr(o.name, length(coalesce(prefix, '')) + 1) AS rest, o.*
    FROM storage.objects AS o
    WHERE o.bucket_id = bucketname
      AND lower(o.name) COLLATE "C" LIKE lower(coalesce(prefix, '') || coalesce(search, '')) || '%'
  ),
  entries AS (
    SELECT DISTINCT split_part(rest, '/', 1) AS name, NULL::uuid AS id, NULL::timestamptz AS updated_at,
           NULL::timestamptz AS created_at, NULL::timestamptz AS last_accessed_at, NULL::jsonb AS metadata
    FROM below WHERE position('/' IN rest) > 0
    UNION ALL
    SELECT rest, id, updated_at, created_at, last_accessed_at, metadata
    FROM below WHERE position('/' IN rest) = 0
  )
  SELECT * FROM entries
  ORDER BY
    CASE WHEN lower(sortorder) = 'desc' THEN NULL ELSE
      CASE lower(sortcolumn) WHEN 'updated_at' THEN updated_at::text WHEN 'created_at' THEN created_at::text
        WHEN 'last_accessed_at' THEN last_accessed_at::text ELSE lower(name) END END COLLATE "C" ASC,
    CASE WHEN lower(sortorder) = 'desc' THEN
      CASE lower(sortcolumn) WHEN 'updated_at' THEN updated_at::text WHEN 'created_at' THEN created_at::text
        WHEN 'last_accessed_at' THEN last_accessed_at::text ELSE lower(name) END END COLLATE "C" DESC,
    name COLLATE "C"
  LIMIT least(coalesce(limits, 100), 1500) OFFSET coalesce(offsets, 0)
$$;

ALTER FUNCTION storage.operation() OWNER TO supabase_storage_admin;
ALTER FUNCTION storage.allow_only_operation(text) OWNER TO supabase_storage_admin;
ALTER FUNCTION storage.allow_any_operation(text[]) OWNER TO supabase_storage_admin;
ALTER FUNCTION storage.search(text, text, int, int, int, text, text, text) OWNER TO supabase_storage_admin;
GRANT EXECUTE ON FUNCTION storage.foldername(text), storage.filename(text), storage.extension(text),
  storage.operation(), storage.allow_only_operation(text), storage.allow_any_operation(text[]),
  storage.search(text, text, int, int, int, text, text, text)
  TO postgres, anon, authenticated, service_role;
