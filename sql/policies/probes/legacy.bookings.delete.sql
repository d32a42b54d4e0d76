DELETE FROM :"bookings" WHERE :"bookings.id" = %(booking)s
RETURNING :"bookings.id"
