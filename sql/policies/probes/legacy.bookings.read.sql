SELECT b.:"bookings.id" FROM :"bookings" AS b WHERE b.:"bookings.id" = %(booking)s
