-- The first `messages` row of a batch (the keyset or sweep clause that follows, for a batch of
-- one): the row a batch halved down to one row fails on.
SELECT m.:"messages.id"
FROM :"messages" AS m
