"""
The front desk's own pages, inside the admin (the bookings' admin adds
their URLs): the day sheet, booking a caller and moving a booking, the
report, and an offer made by hand from a waitlist entry's page.
"""
