"""
Races for one practitioner's time: the database is the arbiter.

On PostgreSQL the exclusion constraint decides, between threads of this
process (`postgres` marker: real concurrent transactions). On SQLite, local
mode's writes are serialized (IMMEDIATE transactions) and re-checked inside
the transaction, with triggers refusing any overlap; that is shown with
separate processes on one SQLite file, as `make run`'s server would have.
"""

import uuid
from datetime import UTC, timedelta

import pytest
from django.test import Client

from booking import services
from booking.models import BookingRules, ConsultationBooking, ConsultationType
from booking.services.schedule import bookable_slots
from tests.support import booking as booking_helpers
from tests.support.booking import (
    BOOK_URL,
    booking_form,
    make_consultation_type,
    make_practitioner,
    only_practitioners,
    page,
    request_form_page,
)
from tests.support.html import form_data
from tests.support.races import race
from treatments.models import SitePage

PEOPLE = 20
SLOT_TAKEN = "That time is no longer available. Please choose another time."


@pytest.fixture
def two_practitioners(transactional_db):
    """
    Two practitioners who take a 30-minute and a 45-minute type, and the
    booking page's copy. A transactional test may find the database emptied
    by an earlier one, so everything is made here.
    """
    BookingRules.objects.get_or_create(pk=1)
    SitePage.objects.get_or_create(
        key=SitePage.Key.BOOKING,
        defaults={"title": "Book", "meta_description": "Book.", "heading": "Book"},
    )
    people = [make_practitioner(display_order=n) for n in (1, 2)]
    only_practitioners(*people)
    short = make_consultation_type(duration_minutes=30, turnover_minutes=10)
    long = make_consultation_type(duration_minutes=45, turnover_minutes=10)
    return people, short, long


def all_at_once(work, count=PEOPLE):
    return booking_helpers.all_at_once(work, count)


def request_booking(kind, starts_at, n, practitioner=None):
    booking, _ = services.book_consultation(
        consultation_type=kind,
        practitioner=practitioner,
        starts_at=starts_at,
        concerns=[],
        submission_key=uuid.uuid4().hex,
        full_name=f"Person {n}",
        email=f"person{n}@example.com",
        phone="+12125550147",
        preferred_contact="email",
    )
    return booking


def outcomes(results):
    booked = [result for result in results if isinstance(result, ConsultationBooking)]
    refused = [result for result in results if isinstance(result, services.SlotUnavailable)]
    return booked, refused


def assert_no_overlaps():
    active = ConsultationBooking.objects.active().order_by("practitioner", "starts_at")
    last = {}
    for booking in active:
        previous = last.get(booking.practitioner_id)
        assert previous is None or previous.blocks_until <= booking.starts_at, (previous, booking)
        last[booking.practitioner_id] = booking


@pytest.mark.postgres
def test_twenty_people_asking_for_any_practitioner_at_one_time_get_two_bookings(
    two_practitioners,
):
    people, short, _ = two_practitioners
    slot = bookable_slots(short)[0]

    booked, refused = outcomes(all_at_once(lambda n: request_booking(short, slot.starts_at, n)))

    assert len(booked) == 2
    assert len(refused) == PEOPLE - 2
    assert {booking.practitioner for booking in booked} == set(people)
    assert ConsultationBooking.objects.filter(starts_at=slot.starts_at).count() == 2
    assert_no_overlaps()


@pytest.mark.postgres
def test_twenty_browsers_posting_any_practitioner_see_two_successes_and_clear_refusals(
    two_practitioners,
):
    _, short, _ = two_practitioners
    browsers = [Client(REMOTE_ADDR=f"198.51.100.{n + 1}") for n in range(PEOPLE)]
    forms = []
    for n, browser in enumerate(browsers):
        document = request_form_page(browser, f"{BOOK_URL}?type={short.slug}")
        data = form_data(booking_form(document))
        data |= {
            "consultation_type": short.slug,
            "practitioner": "",
            "slot": bookable_slots(short)[0].value,
            "full_name": f"Person {n}",
            "email": f"person{n}@example.com",
            # A number each: one shared would meet the per-contact limit once two
            # requests from it were waiting, a refusal other than the one raced for.
            "phone": f"(212) 555-{100 + n:04d}",
            "consent": "on",
        }
        forms.append(data)

    results = all_at_once(lambda n: browsers[n].post(BOOK_URL, forms[n]))

    assert [result for result in results if isinstance(result, Exception)] == []
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200] * (PEOPLE - 2) + [302, 302]
    for response in results:
        if response.status_code == 200:
            assert SLOT_TAKEN in page(response).find(class_="error-summary").text
    assert ConsultationBooking.objects.count() == 2


@pytest.mark.postgres
def test_a_45_and_a_30_minute_request_racing_at_overlapping_times_for_one_person_get_one(
    two_practitioners,
):
    (person, _), short, long = two_practitioners
    first = bookable_slots(long, practitioner=person)[0].starts_at
    # The 45-minute consultation from `first`, the 30-minute one 15 minutes in.
    requests = [(long, first), (short, first + timedelta(minutes=15))] * (PEOPLE // 2)

    def race(n):
        kind, starts_at = requests[n]
        return request_booking(kind, starts_at, n, practitioner=person)

    booked, refused = outcomes(all_at_once(race))

    assert len(booked) == 1
    assert len(refused) == PEOPLE - 1
    assert_no_overlaps()


@pytest.mark.postgres
def test_a_move_racing_a_new_booking_into_the_same_time_gets_one(two_practitioners):
    (person, _), short, _ = two_practitioners
    slots = bookable_slots(short, practitioner=person)
    target = slots[8].starts_at
    for attempt in range(5):  # Several rounds, so either side can win.
        movers = [
            request_booking(short, slots[n].starts_at, f"{attempt}-{n}", practitioner=person)
            for n in (0, 4)
        ]

        def race(n, movers=movers, attempt=attempt):
            if n < 2:
                return services.move_booking(movers[n], target, practitioner=person).booking
            return request_booking(short, target, f"new-{attempt}-{n}", practitioner=person)

        results = all_at_once(race, count=4)
        at_target = ConsultationBooking.objects.active().filter(
            practitioner=person, starts_at=target
        )
        assert at_target.count() == 1, results
        assert sum(isinstance(result, services.SlotUnavailable) for result in results) == 3, results
        assert_no_overlaps()
        ConsultationBooking.objects.update(status=ConsultationBooking.Status.CANCELLED)


# SQLite: separate processes on one database file, as `make run` has, each
# on its own copy of the migrated file (the `sqlite_site` fixture).


@pytest.mark.sqlite
@pytest.mark.django_db
def test_on_sqlite_ten_processes_asking_for_any_practitioner_at_one_time_get_two(sqlite_site):
    assessment = "skin-assessment"
    # A few times in, so minimum notice cannot pass it while the processes start.
    starts_at = bookable_slots(ConsultationType.objects.get(slug=assessment))[4].starts_at

    results = race(
        sqlite_site.environment(), "book", [(assessment, starts_at.isoformat(), "")] * 10
    )

    assert sorted(result.get("booked", "") for result in results) == [""] * 8 + [
        "daniel-okafor",
        "maya-chen",
    ]
    stored_at = starts_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert sqlite_site.rows(
        "SELECT count(*) FROM booking_consultationbooking WHERE starts_at = ?", (stored_at,)
    ) == [(2,)]


@pytest.mark.sqlite
@pytest.mark.django_db
def test_on_sqlite_overlapping_45_and_30_minute_requests_for_one_person_get_one(sqlite_site):
    medical = ConsultationType.objects.get(slug="medical-grade-facial-consultation")
    first = bookable_slots(medical)[12].starts_at
    requests = [
        ("medical-grade-facial-consultation", first.isoformat(), "daniel-okafor"),
        ("skin-assessment", (first + timedelta(minutes=15)).isoformat(), "daniel-okafor"),
    ] * 4

    results = race(sqlite_site.environment(), "book", requests)

    assert sum("booked" in result for result in results) == 1
    assert sum("refused" in result for result in results) == 7


@pytest.mark.sqlite
def test_on_sqlite_migrate_installs_the_overlap_triggers(sqlite_site):
    # What they refuse is shown in ../schedule/test_practitioners.py and
    # test_booking_workflow.py, which run on SQLite in the SQLite pass (and on
    # the exclusion constraint in the PostgreSQL one).
    rows = sqlite_site.rows(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name = 'booking_consultationbooking' ORDER BY name"
    )
    assert rows == [("booking_no_overlap_on_insert",), ("booking_no_overlap_on_update",)]
