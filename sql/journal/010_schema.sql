-- The tool's own schema: the journal of runs and phases, and the merge's bookkeeping
-- (provenance, quarantine, exclusions, high-water marks, what it did to sessions).
-- Idempotent: every run installs it before it writes anything.
CREATE SCHEMA IF NOT EXISTS :"tool";
REVOKE ALL ON SCHEMA :"tool" FROM PUBLIC;

CREATE TABLE IF NOT EXISTS :"tool.runs" (
  id bigserial PRIMARY KEY,
  command text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  db_user text NOT NULL DEFAULT current_user,
  os_user text,
  client_host text,
  config_fingerprint text NOT NULL,
  system_identifier text NOT NULL,
  tool_version text
);

CREATE TABLE IF NOT EXISTS :"tool.phase_records" (
  id bigserial PRIMARY KEY,
  run_id bigint NOT NULL REFERENCES :"tool.runs" (id),
  phase text NOT NULL,
  action text NOT NULL CONSTRAINT phase_records_action_check
    CHECK (action IN ('apply', 'rollback', 'verify')),
  status text NOT NULL CONSTRAINT phase_records_status_check
    CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  db_user text NOT NULL DEFAULT current_user,
  os_user text,
  config_fingerprint text NOT NULL,
  sql_sha256 text NOT NULL,
  counts jsonb NOT NULL DEFAULT '{}',
  checksums jsonb NOT NULL DEFAULT '{}',
  details jsonb NOT NULL DEFAULT '{}',
  error text
);
CREATE INDEX IF NOT EXISTS phase_records_phase_idx ON :"tool.phase_records" (phase, id);
-- A journal written by an earlier version knows neither verdicts ('verify') nor interrupted
-- runs: widen its two checks once (nothing happens when they are already these).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_constraint
                 WHERE conrelid = ':"tool.phase_records"'::regclass
                   AND conname = 'phase_records_status_check'
                   AND pg_get_constraintdef(oid) LIKE '%interrupted%') THEN
    ALTER TABLE :"tool.phase_records"
      DROP CONSTRAINT IF EXISTS phase_records_action_check,
      DROP CONSTRAINT IF EXISTS phase_records_status_check,
      ADD CONSTRAINT phase_records_action_check CHECK (action IN ('apply', 'rollback', 'verify')),
      ADD CONSTRAINT phase_records_status_check
        CHECK (status IN ('running', 'completed', 'failed', 'interrupted'));
  END IF;
END
$$;

-- Pre-phase checksums of the tables a phase changes: what its rollback must restore.
CREATE TABLE IF NOT EXISTS :"tool.baselines" (
  phase text PRIMARY KEY,
  record_id bigint NOT NULL REFERENCES :"tool.phase_records" (id),
  checksums jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Every source row's fate, exactly one: migrated or linked here, quarantined, or excluded.
-- source_checksum is the whole source row's 64-bit hash as merge read it (hash_record_extended:
-- each column by its type's own hash, no text rendering). The target row is checked against a
-- fresh re-derivation from its source (verify/060), so no hash of it is stored. Only the
-- primary key is indexed: batches arrive in source id order, so it fills page by page, and
-- lookups by chat message id (verify, rollback) are set-based joins.
CREATE TABLE IF NOT EXISTS :"tool.provenance" (
  source_table text NOT NULL,
  source_id uuid NOT NULL,
  chat_message_id uuid NOT NULL,
  fate text NOT NULL CHECK (fate IN ('migrated', 'linked')),
  batch bigint NOT NULL,
  source_checksum text NOT NULL,
  PRIMARY KEY (source_table, source_id)
);

CREATE TABLE IF NOT EXISTS :"tool.quarantine" (
  source_table text NOT NULL,
  source_id uuid NOT NULL,
  reason text NOT NULL,
  detail text NOT NULL,
  batch bigint NOT NULL,
  source_checksum text NOT NULL,
  snapshot jsonb NOT NULL,
  PRIMARY KEY (source_table, source_id)
);

CREATE TABLE IF NOT EXISTS :"tool.excluded" (
  source_table text NOT NULL,
  source_id uuid NOT NULL,
  reason text NOT NULL,
  detail text NOT NULL,
  batch bigint NOT NULL,
  source_checksum text NOT NULL,
  PRIMARY KEY (source_table, source_id)
);

-- Keyset position per part of a source: a source's key range is cut into parts at the first
-- run (low_id exclusive, high_id inclusive; NULL is open), each merged by its own worker; a
-- resumed merge starts every part after its last committed batch.
CREATE TABLE IF NOT EXISTS :"tool.high_water" (
  source_table text NOT NULL,
  part integer NOT NULL,
  low_id uuid,
  high_id uuid,
  last_id uuid,
  batches bigint NOT NULL DEFAULT 0,
  pass integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (source_table, part)
);

-- Which source rows link to a chat message the app already dual-wrote, decided once for all
-- rows before the batches (merge/019), so parts merged side by side never claim one twin twice
-- and the outcome does not depend on batch boundaries. A row with chat_message_id NULL matched
-- a candidate but lost it to a better claim: it is migrated.
CREATE TABLE IF NOT EXISTS :"tool.link_plan" (
  source_table text NOT NULL,
  source_id uuid NOT NULL,
  chat_message_id uuid,
  PRIMARY KEY (source_table, source_id)
);

-- Sessions merge created, and the prior values of sessions it only updated, so rollback
-- removes and restores exactly those.
CREATE TABLE IF NOT EXISTS :"tool.session_changes" (
  session_id uuid PRIMARY KEY,
  action text NOT NULL CHECK (action IN ('created', 'updated')),
  prior_last_message_at timestamptz,
  batch bigint NOT NULL
);

-- Per-session order of chat messages by (created_at, id), gap-free from 1: the session's
-- message ids in order, one row per session (a message's sequence is its array position).
-- Kept in the tool's schema so the app's rows are never rewritten and the live table is never
-- altered; one row per session rather than per message, because it is rewritten whole.
CREATE TABLE IF NOT EXISTS :"tool.session_sequence" (
  session_id uuid PRIMARY KEY,
  message_ids uuid[] NOT NULL,
  sequenced_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- The same, a row per message: (session_id, sequence) is unique, as is chat_message_id.
CREATE OR REPLACE VIEW :"tool.message_sequence" AS
SELECT s.session_id, o.sequence, o.chat_message_id
FROM :"tool.session_sequence" AS s
CROSS JOIN LATERAL unnest(s.message_ids) WITH ORDINALITY AS o (chat_message_id, sequence);

-- A direct session's id: UUIDv8 from sha256(namespace || least(a, b) || greatest(a, b)),
-- so A->B and B->A share it on every run and machine (consolidation/session_key.py agrees).
CREATE OR REPLACE FUNCTION :"tool.direct_session_id"(namespace uuid, a uuid, b uuid)
RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT encode(
    set_byte(set_byte(h, 6, (get_byte(h, 6) & 15) | 128), 8, (get_byte(h, 8) & 63) | 128), 'hex'
  )::uuid
  FROM (SELECT substr(sha256(uuid_send(namespace) || uuid_send(least(a, b))
                             || uuid_send(greatest(a, b))), 1, 16) AS h) AS digest
$$;

-- A migrated message's id: UUIDv8 from sha256(namespace || source table || source id), so an
-- interrupted and an uninterrupted merge produce the same rows.
CREATE OR REPLACE FUNCTION :"tool.message_id"(namespace uuid, source_table text, source_id uuid)
RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT encode(
    set_byte(set_byte(h, 6, (get_byte(h, 6) & 15) | 128), 8, (get_byte(h, 8) & 63) | 128), 'hex'
  )::uuid
  FROM (SELECT substr(sha256(uuid_send(namespace) || convert_to(source_table, 'UTF8')
                             || uuid_send(source_id)), 1, 16) AS h) AS digest
$$;

-- Change capture: every insert, update or delete on a legacy source while capture is on, as the
-- legacy tables' triggers logged it (sql/capture/). The forwarder re-reads each logged row's
-- current state and gives it its fate again; forwarded_at marks what it has forwarded. Keyset
-- batches skip every row named here, so a row is forwarded or backfilled, never both.
CREATE TABLE IF NOT EXISTS :"tool.capture_log" (
  id bigserial PRIMARY KEY,
  source_table text NOT NULL,
  source_id uuid NOT NULL,
  operation text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
  captured_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  forwarded_at timestamptz
);
CREATE INDEX IF NOT EXISTS capture_log_source_idx ON :"tool.capture_log" (source_table, source_id);
CREATE INDEX IF NOT EXISTS capture_log_pending_idx ON :"tool.capture_log" (id) WHERE forwarded_at IS NULL;

-- The way back (sync's write-back): every insert, update or delete the new app makes in
-- chat_messages while write-back is on, as its trigger logged it (sql/capture/016, 022). Sync
-- writes each logged message into the legacy table the old app reads when its session has a
-- legacy home; written_back_at marks what it has handled.
CREATE TABLE IF NOT EXISTS :"tool.app_log" (
  id bigserial PRIMARY KEY,
  chat_message_id uuid NOT NULL,
  operation text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
  captured_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  written_back_at timestamptz
);
CREATE INDEX IF NOT EXISTS app_log_pending_idx ON :"tool.app_log" (id) WHERE written_back_at IS NULL;
