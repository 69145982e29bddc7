"""
Moved to tests/support/booking.py. Kept only while tests the lead is editing
(test_booking_concurrency, test_booking_overlap, test_faults, test_page_cache,
test_waitlist_races, tests/support/local_site.py) still import it here;
delete it once they import tests.support.booking.
"""

from tests.support.booking import *  # noqa: F403
