-- The legacy tables while the old app still uses them (until cut-over): a row is read and
-- written only by its participants (a booking's members, a direct message's pair), admins read
-- it, nobody deletes it but service_role. Replaces their permissive USING (true) policies; anon
-- loses every privilege, signed-in users the ones the Data API never needs (TRUNCATE skips
-- row security). Cut-over later closes messages and voice notes to all but service_role;
-- bookings stay the app's, under these policies.

-- The caller's bookings, for the legacy policies: SECURITY DEFINER so the lookup does not pass
-- through bookings' own policies, evaluated once per statement as a hashed sub-select.
CREATE OR REPLACE FUNCTION :"helper.my_bookings"() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  SELECT b.:"bookings.id" FROM :"bookings" AS b
  WHERE (SELECT auth.uid()) IN (b.:"bookings.user_id", b.:"bookings.reader_id")
$$;
REVOKE ALL ON FUNCTION :"helper.my_bookings"() FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION :"helper.my_bookings"() TO authenticated, service_role;

ALTER TABLE :"messages" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"messages" FROM anon;
REVOKE TRUNCATE, REFERENCES, TRIGGER ON :"messages" FROM authenticated;

CREATE POLICY "legacy messages: participants and admins read" ON :"messages"
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (
    :"messages.sender_id" = (SELECT auth.uid())
    OR (:"messages.booking_id" IS NULL AND :"messages.recipient_id" = (SELECT auth.uid()))
    OR :"messages.booking_id" IN (SELECT :"helper.my_bookings"())
    OR (SELECT :"helper.is_chat_admin"())
  );

CREATE POLICY "legacy messages: participants send as themselves" ON :"messages"
  AS PERMISSIVE FOR INSERT TO authenticated
  WITH CHECK (
    :"messages.sender_id" = (SELECT auth.uid())
    AND (
      (:"messages.booking_id" IS NULL AND :"messages.recipient_id" IS NOT NULL)
      OR :"messages.booking_id" IN (SELECT :"helper.my_bookings"())
    )
  );

CREATE POLICY "legacy messages: senders edit their own" ON :"messages"
  AS PERMISSIVE FOR UPDATE TO authenticated
  USING (
    :"messages.sender_id" = (SELECT auth.uid())
    AND (
      (:"messages.booking_id" IS NULL AND :"messages.recipient_id" IS NOT NULL)
      OR :"messages.booking_id" IN (SELECT :"helper.my_bookings"())
    )
  )
  WITH CHECK (
    :"messages.sender_id" = (SELECT auth.uid())
    AND (
      (:"messages.booking_id" IS NULL AND :"messages.recipient_id" IS NOT NULL)
      OR :"messages.booking_id" IN (SELECT :"helper.my_bookings"())
    )
  );

ALTER TABLE :"voice_notes" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"voice_notes" FROM anon;
REVOKE TRUNCATE, REFERENCES, TRIGGER ON :"voice_notes" FROM authenticated;

-- A chat voice note's context is a booking (or a chat session): its members read it; any other
-- voice note (a profile's...) is its owner's.
CREATE POLICY "legacy voice notes: participants and admins read" ON :"voice_notes"
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (
    :"voice_notes.user_id" = (SELECT auth.uid())
    OR (
      :"voice_notes.context_type" = ANY (:'chat_context_types'::text[])
      AND (
        :"voice_notes.context_id" IN (SELECT :"helper.my_bookings"())
        OR :"voice_notes.context_id" IN (SELECT :"helper.my_chat_sessions"())
      )
    )
    OR (SELECT :"helper.is_chat_admin"())
  );

CREATE POLICY "legacy voice notes: participants record as themselves" ON :"voice_notes"
  AS PERMISSIVE FOR INSERT TO authenticated
  WITH CHECK (
    :"voice_notes.user_id" = (SELECT auth.uid())
    AND (
      :"voice_notes.context_type" <> ALL (:'chat_context_types'::text[])
      OR :"voice_notes.context_id" IN (SELECT :"helper.my_bookings"())
      OR :"voice_notes.context_id" IN (SELECT :"helper.my_chat_sessions"())
    )
  );

CREATE POLICY "legacy voice notes: owners edit their own" ON :"voice_notes"
  AS PERMISSIVE FOR UPDATE TO authenticated
  USING (:"voice_notes.user_id" = (SELECT auth.uid()))
  WITH CHECK (
    :"voice_notes.user_id" = (SELECT auth.uid())
    AND (
      :"voice_notes.context_type" <> ALL (:'chat_context_types'::text[])
      OR :"voice_notes.context_id" IN (SELECT :"helper.my_bookings"())
      OR :"voice_notes.context_id" IN (SELECT :"helper.my_chat_sessions"())
    )
  );

ALTER TABLE :"bookings" ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON :"bookings" FROM anon;
REVOKE TRUNCATE, REFERENCES, TRIGGER ON :"bookings" FROM authenticated;

CREATE POLICY "bookings: members and admins read" ON :"bookings"
  AS PERMISSIVE FOR SELECT TO authenticated
  USING (
    (SELECT auth.uid()) IN (:"bookings.user_id", :"bookings.reader_id")
    OR (SELECT :"helper.is_chat_admin"())
  );

CREATE POLICY "bookings: members book" ON :"bookings"
  AS PERMISSIVE FOR INSERT TO authenticated
  WITH CHECK ((SELECT auth.uid()) IN (:"bookings.user_id", :"bookings.reader_id"));

CREATE POLICY "bookings: members change theirs" ON :"bookings"
  AS PERMISSIVE FOR UPDATE TO authenticated
  USING ((SELECT auth.uid()) IN (:"bookings.user_id", :"bookings.reader_id"))
  WITH CHECK ((SELECT auth.uid()) IN (:"bookings.user_id", :"bookings.reader_id"));

-- Whether a legacy reference (a public, authenticated or signed URL, `bucket/path` or a bare
-- path; percent-encoded or not; with a query or not) names the object NAME of BUCKET. Compared
-- as bytes, so a malformed escape never raises inside a policy.
CREATE OR REPLACE FUNCTION :"helper.legacy_reference_names"(reference text, bucket text, name text)
  RETURNS boolean
  LANGUAGE sql IMMUTABLE SET search_path = ''
AS $$
  WITH decoded AS (
    SELECT coalesce(string_agg(
             CASE WHEN length(t.part[1]) = 3 AND left(t.part[1], 1) = '%'
                  THEN decode(substr(t.part[1], 2), 'hex')
                  ELSE convert_to(t.part[1], 'UTF8') END,
             ''::bytea ORDER BY t.n), ''::bytea) AS path
    FROM regexp_matches(ltrim(split_part($1, '?', 1), '/'), '%[0-9A-Fa-f]{2}|[^%]+|%', 'g')
      WITH ORDINALITY AS t (part, n)
  ),
  wanted AS (
    SELECT convert_to($3, 'UTF8') AS bare, convert_to($2 || '/' || $3, 'UTF8') AS qualified
  )
  SELECT d.path = w.bare
      OR d.path = w.qualified
      OR (length(d.path) > length(w.qualified)
          AND substring(d.path FROM length(d.path) - length(w.qualified)) = convert_to('/', 'UTF8') || w.qualified)
  FROM decoded AS d, wanted AS w
$$;
REVOKE ALL ON FUNCTION :"helper.legacy_reference_names"(text, text, text) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION :"helper.legacy_reference_names"(text, text, text) TO authenticated, service_role;

-- Whether the caller shares the legacy file NAME of BUCKET: its uploader (the first folder, as
-- the old app uploaded) referred to it in a legacy message or chat voice note of a conversation
-- the caller is in. SECURITY DEFINER with row_security off, so its owner needs BYPASSRLS (as
-- Supabase's postgres has) and an owner without it fails loudly instead of re-entering the
-- policies.
CREATE OR REPLACE FUNCTION :"helper.legacy_file_shared"(bucket text, name text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' SET row_security = off
AS $$
  WITH caller AS (
    SELECT (SELECT auth.uid()) AS me,
           CASE WHEN split_part($2, '/', 1) ~ '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$'
                THEN split_part($2, '/', 1)::uuid END AS uploader
  ),
  mine AS (SELECT :"helper.my_bookings"() AS booking)
  SELECT EXISTS (
    SELECT 1 FROM caller AS c JOIN :"messages" AS m ON m.:"messages.sender_id" = c.uploader
    WHERE (
        (m.:"messages.booking_id" IS NULL AND m.:"messages.recipient_id" = c.me)
        OR m.:"messages.booking_id" IN (SELECT booking FROM mine)
      )
      AND (
        :"helper.legacy_reference_names"(m.:"messages.file_url", $1, $2)
        OR EXISTS (
          SELECT 1
          FROM jsonb_path_query(m.:"messages.metadata"::jsonb, 'strict $.** ? (@.type() == "string")') AS s (v)
          WHERE :"helper.legacy_reference_names"(s.v #>> '{}', $1, $2)
        )
      )
  ) OR EXISTS (
    SELECT 1 FROM caller AS c JOIN :"voice_notes" AS v ON v.:"voice_notes.user_id" = c.uploader
    WHERE v.:"voice_notes.context_type" = ANY (:'chat_context_types'::text[])
      AND (
        v.:"voice_notes.context_id" IN (SELECT booking FROM mine)
        OR EXISTS (SELECT 1 FROM :"chat_sessions" AS s
                   WHERE s.:"chat_sessions.id" = v.:"voice_notes.context_id"
                     AND s.:"chat_sessions.participants" @> ARRAY[c.me])
      )
      AND :"helper.legacy_reference_names"(v.:"voice_notes.file_url", $1, $2)
  )
$$;
REVOKE ALL ON FUNCTION :"helper.legacy_file_shared"(text, text) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION :"helper.legacy_file_shared"(text, text) TO authenticated, service_role;
