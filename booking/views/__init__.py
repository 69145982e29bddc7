"""
booking's pages, by domain: bookings.py (the booking page, its receipt, the
client's own page, the team and privacy pages), page_cache.py (the booking
page's cache), waitlist.py (joining, leaving, claiming an offer),
my_visits.py and my_visits_changes.py (a returning client's own page, on
client_session.py's sign-in), and
front_desk/ (the staff's pages in the admin: the day sheet, booking a
caller, moving a booking, the report, an offer by hand).
"""
