-- The first `voice_notes` row of a batch (the keyset or sweep clause that follows, for a batch
-- of one): the row a batch halved down to one row fails on.
SELECT v.:"voice_notes.id"
FROM :"voice_notes" AS v
