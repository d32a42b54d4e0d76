-- Deterministic building blocks, session-local (pg_temp): every seeded value derives from
-- (seed, kind, row number) through md5, never from random() or now(), so one seed gives
-- byte-identical data on every database. Simple SQL functions, so the planner inlines them.
CREATE OR REPLACE FUNCTION pg_temp.seed_int(seed text, kind text, n bigint, modulus bigint)
  RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT mod(('x' || substr(md5(seed || ':' || kind || ':' || n::text), 1, 15))::bit(60)::bigint, modulus) $$;

-- A version-4-shaped uuid, as gen_random_uuid() would give, but from the hash. No FROM clause
-- and one md5: the planner inlines it, which makes the million-row steps several times faster.
CREATE OR REPLACE FUNCTION pg_temp.seed_uuid(seed text, kind text, n bigint)
  RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT overlay(overlay(md5(seed || ':' || kind || ':' || n::text) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid $$;

-- A moment in the legacy year (2024) or later: the fixed epoch plus a hash-derived offset.
-- STABLE as timestamptz arithmetic is, so that it too can be inlined.
CREATE OR REPLACE FUNCTION pg_temp.seed_time(seed text, kind text, n bigint, span_seconds bigint)
  RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT timestamptz '2024-01-01 00:00:00+00'
         + make_interval(secs => pg_temp.seed_int(seed, kind, n, span_seconds * 1000) / 1000.0)
$$;

-- The session of a direct pair, exactly as merge derives it (UUIDv8 of sha256 over the
-- namespace and the ordered pair), so sessions the newer app made for a pair are found.
CREATE OR REPLACE FUNCTION pg_temp.seed_direct_session(namespace uuid, a uuid, b uuid)
  RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT encode(set_byte(set_byte(h, 6, (get_byte(h, 6) & 15) | 128), 8, (get_byte(h, 8) & 63) | 128), 'hex')::uuid
  FROM (SELECT substr(sha256(uuid_send(namespace) || uuid_send(least(a, b)) || uuid_send(greatest(a, b))), 1, 16) AS h) AS hashed
$$;

CREATE OR REPLACE FUNCTION pg_temp.seed_base64url(data bytea)
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT translate(encode(data, 'base64'), E'+/=\n', '-_') $$;

-- A token shaped like the Storage API's signed-URL JWT (header.payload.signature).
CREATE OR REPLACE FUNCTION pg_temp.seed_signed_token(seed text, object_key text, issued_at timestamptz)
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT pg_temp.seed_base64url(convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8'))
         || '.' || pg_temp.seed_base64url(convert_to(json_build_object(
              'url', object_key,
              'iat', extract(epoch FROM issued_at)::bigint,
              'exp', extract(epoch FROM issued_at)::bigint + 604800)::text, 'UTF8'))
         || '.' || pg_temp.seed_base64url(decode(md5(seed || ':sign:' || object_key)
                                                 || md5(object_key || ':sign:' || seed), 'hex'))
$$;
