UPDATE :"bookings" SET :"bookings.status" = :"bookings.status" WHERE :"bookings.id" = %(booking)s
RETURNING :"bookings.id"
