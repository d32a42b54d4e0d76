-- The first row of the source in a batch (the keyset or sweep clause that follows, for a batch
-- of one): the row a batch halved down to one row fails on.
SELECT :"alias".:"source.id"
FROM :"source" AS :"alias"
