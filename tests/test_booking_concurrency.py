"""
Twenty people booking the last seat at the same moment: exactly one gets it.

These tests need real concurrent transactions, so they run on PostgreSQL
only (the `postgres` marker; see `_postgres_marker` in conftest.py). They
commit for real (`transactional_db`), so the database is emptied after each
one, as after every transactional test; and since an earlier transactional
test may have left it empty, they create the few rows they need themselves
rather than count on the data migrations' content being there.
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from booking import services
from booking.availability import bookable_slots
from booking.models import ConsultationBooking, OpeningHours
from tests.booking_helpers import BOOK_URL, booking_form, offered_slots, page, set_hours, set_rules
from tests.markup import form_data
from treatments.models import SitePage

pytestmark = pytest.mark.postgres

PEOPLE = 20
SLOT_TAKEN = "That time is no longer available. Please choose another time."


@pytest.fixture
def one_seat_per_slot(transactional_db):
    """Weekday hours, the booking page, and rules with one seat per slot."""
    if not OpeningHours.objects.exists():
        set_hours({weekday: [("09:00", "17:00")] for weekday in range(5)})
    SitePage.objects.get_or_create(
        key=SitePage.Key.BOOKING,
        defaults={
            "title": "Book a consultation",
            "meta_description": "Book a consultation.",
            "heading": "Book a consultation",
        },
    )
    set_rules(capacity=1)


def all_at_once(work):
    """Run `work(n)` in PEOPLE threads released together; return each result or exception."""
    start = threading.Barrier(PEOPLE, timeout=30)

    def run(n):
        try:
            start.wait()
            return work(n)
        except Exception as error:  # Collected and asserted on below.
            return error
        finally:
            connection.close()  # Each thread has its own connection.

    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        return list(pool.map(run, range(PEOPLE)))


def test_twenty_people_booking_the_last_seat_at_once_get_one_booking(one_seat_per_slot):
    slot = bookable_slots()[0]

    def book(n):
        booking, _ = services.book_consultation(
            starts_at=slot.starts_at,
            treatment=None,
            concerns=[],
            submission_key=uuid.uuid4().hex,
            full_name=f"Person {n}",
            email=f"person{n}@example.com",
            phone="+12125550147",
            preferred_contact="email",
        )
        return booking

    results = all_at_once(book)

    booked = [result for result in results if isinstance(result, ConsultationBooking)]
    refused = [result for result in results if isinstance(result, services.SlotUnavailable)]
    assert len(booked) == 1, results
    assert len(refused) == PEOPLE - 1, results
    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == 1
    assert ConsultationBooking.objects.get().full_name == booked[0].full_name


def test_twenty_people_posting_the_form_for_the_last_seat_see_one_success_and_a_clear_refusal(
    one_seat_per_slot,
):
    # Each person has their own browser and address (the rate limit is per address).
    browsers = [Client(REMOTE_ADDR=f"198.51.100.{n + 1}") for n in range(PEOPLE)]
    forms = []
    for n, browser in enumerate(browsers):
        document = page(browser.get(BOOK_URL))
        data = form_data(booking_form(document))
        data |= {
            "slot": offered_slots(document)[0],
            "full_name": f"Person {n}",
            "email": f"person{n}@example.com",
            "phone": "(212) 555-0147",
            "consent": "on",
        }
        forms.append(data)
    assert len({data["slot"] for data in forms}) == 1

    results = all_at_once(lambda n: browsers[n].post(BOOK_URL, forms[n]))

    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200] * (PEOPLE - 1) + [302]
    for response in results:
        if response.status_code == 200:
            assert SLOT_TAKEN in page(response).find(class_="error-summary").text
    assert ConsultationBooking.objects.count() == 1
