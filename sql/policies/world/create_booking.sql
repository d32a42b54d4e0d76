INSERT INTO :"bookings" (:"bookings.id", :"bookings.user_id", :"bookings.reader_id", :"bookings.status")
VALUES (%(id)s, %(user)s, %(reader)s, %(status)s)
