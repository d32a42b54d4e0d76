-- Whether the helper schema, its functions (with their definitions), the content-only
-- trigger and the policies' indexes exist: rollback removes only what apply created.
SELECT
  to_regnamespace(%(helper)s) IS NOT NULL AS helper_schema,
  (SELECT jsonb_object_agg(f.signature, pg_get_functiondef(to_regprocedure(f.signature)))
   FROM unnest(%(functions)s::text[]) AS f (signature)
   WHERE to_regprocedure(f.signature) IS NOT NULL) AS functions,
  EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%(messages)s)
          AND tgname = 'chat_messages_content_only') AS trigger,
  (SELECT coalesce(jsonb_agg(i.name), '[]') FROM unnest(%(indexes)s::text[]) AS i (name)
   WHERE to_regclass(i.name) IS NOT NULL) AS indexes
