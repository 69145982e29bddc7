"""
Twenty people booking the last free practitioner at the same moment:
exactly one gets them.

These tests need real concurrent transactions, so they run on PostgreSQL
only (the `postgres` marker; see `_postgres_marker` in conftest.py). They
commit for real (`transactional_db`), so the database is emptied after each
one, as after every transactional test; and since an earlier transactional
test may have left it empty, they create the few rows they need themselves
rather than count on the data migrations' content being there.
"""

import uuid
from itertools import pairwise

import pytest
from django.test import Client

from booking import services
from booking.models import ConsultationBooking, ConsultationType, Practitioner
from booking.services.schedule import bookable_slots
from tests.support import booking as booking_helpers
from tests.support.booking import (
    ASSESSMENT,
    BOOK_URL,
    NURSE_PRACTITIONER,
    booking_form,
    ensure_bookable,
    only_practitioners,
    page,
    request_form_page,
    set_hours,
)
from tests.support.html import form_data

pytestmark = pytest.mark.postgres

PEOPLE = 20
SLOT_TAKEN = "That time is no longer available. Please choose another time."
WEEKDAYS = {weekday: [("09:00", "17:00")] for weekday in range(5)}


@pytest.fixture
def practitioners(transactional_db):
    """
    The booking page, a skin assessment, and `count` practitioners on duty
    weekdays 9–17, everyone else set aside: made again if an earlier
    transactional test emptied the tables.
    """
    first = ensure_bookable()

    def on_duty(count):
        people = [first]
        if count > 1:
            second, _ = Practitioner.objects.get_or_create(
                slug=NURSE_PRACTITIONER,
                defaults={
                    "name": "Daniel Okafor",
                    "role": "Nurse practitioner",
                    "display_order": 2,
                },
            )
            set_hours(WEEKDAYS, practitioners=[second])
            people.append(second)
        only_practitioners(*people)
        return people

    return on_duty


def assessment():
    return ConsultationType.objects.get(slug=ASSESSMENT)


def all_at_once(work):
    return booking_helpers.all_at_once(work, PEOPLE)


def book_at(starts_at, n):
    booking, _ = services.book_consultation(
        consultation_type=assessment(),
        starts_at=starts_at,
        concerns=[],
        submission_key=uuid.uuid4().hex,
        full_name=f"Person {n}",
        email=f"person{n}@example.com",
        phone="+12125550147",
        preferred_contact="email",
    )
    return booking


@pytest.mark.parametrize("on_duty_count", [1, 2])
def test_twenty_people_booking_the_same_time_at_once_get_one_booking_per_practitioner(
    practitioners, on_duty_count
):
    people = practitioners(on_duty_count)
    slot = bookable_slots(assessment())[0]

    results = all_at_once(lambda n: book_at(slot.starts_at, n))

    booked = [result for result in results if isinstance(result, ConsultationBooking)]
    refused = [result for result in results if isinstance(result, services.SlotUnavailable)]
    assert len(booked) == on_duty_count, results
    assert len(refused) == PEOPLE - on_duty_count, results
    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == on_duty_count
    # "Any practitioner": whoever lost a race for one went to the next, not to nobody.
    assert sorted(booking.practitioner_id for booking in booked) == sorted(
        person.pk for person in people
    )
    assert {booking.full_name for booking in ConsultationBooking.objects.all()} == {
        booking.full_name for booking in booked
    }


def test_twenty_people_booking_overlapping_times_of_the_last_practitioner_get_one_booking(
    practitioners,
):
    practitioners(1)
    slots = bookable_slots(assessment())
    # Two times that overlap, such as 9:00–9:30 and 9:15–9:45: different
    # times, one practitioner, one booking. Not simply the first two times:
    # late in the clinic's day the first is the day's last, 4:30–5 PM, and
    # the second is the next morning's first.
    earlier, later = next(
        (slot.starts_at, following.starts_at)
        for slot, following in pairwise(slots)
        if following.starts_at < slot.ends_at
    )

    results = all_at_once(lambda n: book_at(later if n % 2 else earlier, n))

    booked = [result for result in results if isinstance(result, ConsultationBooking)]
    refused = [result for result in results if isinstance(result, services.SlotUnavailable)]
    assert len(booked) == 1, results
    assert len(refused) == PEOPLE - 1, results
    assert ConsultationBooking.objects.count() == 1


def test_twenty_people_posting_the_form_for_the_last_free_time_see_one_success_and_a_clear_refusal(
    practitioners,
):
    practitioners(1)
    # Each person has their own browser and address (the rate limit is per address).
    browsers = [Client(REMOTE_ADDR=f"198.51.100.{n + 1}") for n in range(PEOPLE)]
    forms = []
    for n, browser in enumerate(browsers):
        document = request_form_page(browser)
        data = form_data(booking_form(document))
        data |= {
            "full_name": f"Person {n}",
            "email": f"person{n}@example.com",
            "phone": "(212) 555-0147",
            "consent": "on",
        }
        forms.append(data)
    assert len({data["slot"] for data in forms}) == 1
    assert {data["consultation_type"] for data in forms} == {ASSESSMENT}

    results = all_at_once(lambda n: browsers[n].post(BOOK_URL, forms[n]))

    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200] * (PEOPLE - 1) + [302]
    for response in results:
        if response.status_code == 200:
            assert SLOT_TAKEN in page(response).find(class_="error-summary").text
    assert ConsultationBooking.objects.count() == 1
