-- The chat buckets date from before the legacy year, on every seeded database alike.
UPDATE storage.buckets
SET created_at = timestamptz '2023-12-01 00:00:00+00', updated_at = timestamptz '2023-12-01 00:00:00+00'
WHERE id IN ('chat-attachments', 'voice-notes', 'chat-files')
