-- The probed session's booking, when the session is a booking chat between the two participants.
SELECT b.:"bookings.id" FROM :"bookings" AS b
WHERE b.:"bookings.id" = %(session)s
  AND ARRAY[b.:"bookings.user_id", b.:"bookings.reader_id"] @> %(members)s::uuid[]
