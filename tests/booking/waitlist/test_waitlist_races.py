"""
Races for a freed time, on PostgreSQL (`postgres` marker: real concurrent
transactions from threads): twenty people claiming one offered time, a
claim against the front desk booking the caller on the phone, and several
workers handling one freed time. The database decides: the booking's
exclusion constraint, the offer's unique (entry, time), the freed time's
row lock. On SQLite, separate processes claim on one database file (the
last test); the sequential versions are in test_waitlist.py.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from booking import services
from booking.models import (
    BookingRules,
    ConsultationBooking,
    FreedTime,
    OutboundEmail,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services import waitlist
from booking.services.offers import offer_freed_time
from booking.services.schedule import bookable_slots
from tests.support.booking import (
    all_at_once,
    main_text,
    make_consultation_type,
    make_practitioner,
    only_practitioners,
    page,
)
from tests.support.races import race, run
from tests.support.waitlist import make_entry

REPO = Path(__file__).resolve().parents[3]
PEOPLE = 20
Status = ConsultationBooking.Status


@pytest.fixture
def freed(transactional_db):
    """
    One practitioner's booking cancelled, with PEOPLE waiting for that
    time: (the time, the consultation type, the practitioner, the offers).
    A transactional test may find the database emptied by an earlier one,
    so everything is made here.
    """
    BookingRules.objects.get_or_create(pk=1)
    person = make_practitioner()
    only_practitioners(person)
    kind = make_consultation_type()
    # Past the client's cut-off, so they may cancel online.
    starts_at = next(
        slot.starts_at
        for slot in bookable_slots(kind)
        if slot.starts_at > timezone.now() + timedelta(days=2)
    )
    booking = book(kind, starts_at, "first", practitioner=person)
    entries = [make_entry(n, consultation_type=kind) for n in range(PEOPLE)]
    # A real commit: the offers' task runs when the cancellation commits.
    services.change_status(booking, Status.CANCELLED, by_client=True)
    offers = [WaitlistOffer.objects.get(entry=entry) for entry in entries]
    assert {offer.starts_at for offer in offers} == {starts_at}
    return starts_at, kind, person, offers


def book(kind, starts_at, n, practitioner=None, **options):
    booking, _ = services.book_consultation(
        consultation_type=kind,
        practitioner=practitioner,
        starts_at=starts_at,
        concerns=[],
        submission_key=f"race-{n}",
        full_name=f"Person {n}",
        email=f"person{n}@example.com",
        phone="+12125550147",
        preferred_contact="email",
        **options,
    )
    return booking


@pytest.mark.postgres
def test_twenty_claims_of_one_freed_time_book_it_once(freed):
    starts_at, _, _, offers = freed

    results = all_at_once(lambda n: waitlist.claim_offer(offers[n]), PEOPLE)

    booked = [result for result in results if isinstance(result, ConsultationBooking)]
    taken = [result for result in results if isinstance(result, waitlist.TimeTaken)]
    assert len(booked) == 1, results
    assert len(taken) == PEOPLE - 1, results
    assert ConsultationBooking.objects.active().filter(starts_at=starts_at).count() == 1
    statuses = sorted(WaitlistOffer.objects.values_list("status", flat=True))
    assert statuses == ["claimed"] + ["taken"] * (PEOPLE - 1)
    assert WaitlistEntry.objects.waiting().count() == PEOPLE - 1


@pytest.mark.postgres
def test_twenty_browsers_claiming_one_time_see_one_booking_and_nineteen_clear_answers(freed):
    starts_at, _, _, offers = freed
    browsers = [Client(REMOTE_ADDR=f"198.51.100.{n + 1}") for n in range(PEOPLE)]
    urls = [offer.get_claim_url() for offer in offers]

    results = all_at_once(lambda n: browsers[n].post(urls[n]), PEOPLE)

    assert [result for result in results if isinstance(result, Exception)] == []
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200] * (PEOPLE - 1) + [302]
    for response in results:
        if response.status_code == 200:
            text = main_text(page(response))
            assert "This time was just taken" in text
            assert "You are still on the waitlist" in text
    assert ConsultationBooking.objects.active().filter(starts_at=starts_at).count() == 1


@pytest.mark.postgres
def test_a_claim_racing_a_staff_phone_booking_gets_one_booking(freed, django_user_model):
    starts_at, kind, person, offers = freed
    staff = django_user_model.objects.create_user("desk", "desk@clinic.test", "pw", is_staff=True)
    for attempt in range(3):  # Several rounds, so either side can win.

        def race(n, attempt=attempt):
            if n == 0:
                return waitlist.claim_offer(offers[attempt])
            return book(kind, starts_at, f"phone-{attempt}", practitioner=person, taken_by=staff)

        results = all_at_once(race, 2)

        assert ConsultationBooking.objects.active().filter(starts_at=starts_at).count() == 1
        assert sum(isinstance(result, ConsultationBooking) for result in results) == 1, results
        assert (
            sum(
                isinstance(result, waitlist.TimeTaken | services.SlotUnavailable)
                for result in results
            )
            == 1
        ), results
        ConsultationBooking.objects.update(status=Status.CANCELLED)
        WaitlistEntry.objects.update(status=WaitlistEntry.Status.WAITING)


@pytest.mark.postgres
def test_one_freed_time_handled_by_several_workers_at_once_is_offered_once(freed):
    starts_at, kind, person, _ = freed
    WaitlistOffer.objects.all().delete()
    OutboundEmail.objects.filter(kind=OutboundEmail.Kind.WAITLIST_OFFER).delete()
    FreedTime.objects.update(handled_at=None)
    # Two rows for the same time too, as two processes freeing it would write.
    rows = list(FreedTime.objects.values_list("pk", flat=True))
    rows.append(
        FreedTime.objects.create(
            practitioner=person, starts_at=starts_at, ends_at=starts_at + kind.length
        ).pk
    )

    results = all_at_once(lambda n: len(offer_freed_time(rows[n % 2])), 6)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert sum(results) == PEOPLE
    assert WaitlistOffer.objects.filter(starts_at=starts_at).count() == PEOPLE
    assert OutboundEmail.objects.filter(kind=OutboundEmail.Kind.WAITLIST_OFFER).count() == PEOPLE
    assert not FreedTime.objects.filter(handled_at__isnull=True).exists()


# SQLite (local mode): separate processes on one database file, as `make
# run` has. Its IMMEDIATE transactions serialize the claims, and the overlap
# triggers refuse a second booking of the time.

CLAIMANTS_ON_SQLITE = 8


@pytest.mark.sqlite
def test_on_sqlite_claims_from_separate_processes_book_the_freed_time_once(sqlite_site):
    env = sqlite_site.environment()
    offers = run(env, "offers_of_a_cancellation", CLAIMANTS_ON_SQLITE)
    assert len(offers) == CLAIMANTS_ON_SQLITE

    results = race(env, "claim", [(pk,) for pk in offers])

    assert sum("booked" in result for result in results) == 1, results
    assert sum("taken" in result for result in results) == CLAIMANTS_ON_SQLITE - 1, results
    active = sqlite_site.rows(
        "SELECT count(*) FROM booking_consultationbooking "
        "WHERE status IN ('requested', 'confirmed') AND email LIKE 'waiting%'"
    )
    assert active == [(1,)]
