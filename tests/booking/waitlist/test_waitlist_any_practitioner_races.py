"""
Races for a freed time while other practitioners are free then (issue 23):
twelve clients waiting for "any practitioner" (or some of them for the
practitioner whose time it was) claim at once. One booking, with the
practitioner whose time was freed; eleven "just taken" pages; no 5xx. On
PostgreSQL, browsers in threads (real concurrent transactions); on SQLite,
separate processes on one database file, as `make run` has.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from booking import services
from booking.models import BookingRules, ConsultationBooking, WaitlistEntry
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

CLAIMANTS = 12


def freed_time_with_others_free(*, named):
    """
    Three practitioners free at a time a few days ahead; the last in the
    team's order booked then and cancelled, with CLAIMANTS waiting (`named`
    of them for her, the rest for any practitioner). (The time, whose time
    it was, the others, the offers.) Made here: a transactional test may
    find the database emptied by an earlier one.
    """
    BookingRules.objects.get_or_create(pk=1)
    team = [make_practitioner(display_order=n) for n in range(3)]
    only_practitioners(*team)
    kind = make_consultation_type()
    freed = team[-1]
    slot = next(
        slot
        for slot in bookable_slots(kind)
        if slot.starts_at > timezone.now() + timedelta(days=2) and len(slot.practitioners) == 3
    )
    booking, _ = services.book_consultation(
        consultation_type=kind,
        practitioner=freed,
        starts_at=slot.starts_at,
        concerns=[],
        submission_key="freed",
        full_name="First Client",
        email="first@example.com",
        phone="+12125550147",
        preferred_contact="email",
    )
    entries = [
        make_entry(n, consultation_type=kind, practitioner=freed if n < named else None)
        for n in range(CLAIMANTS)
    ]
    # A real commit: the offers' task runs when the cancellation commits.
    services.change_status(booking, ConsultationBooking.Status.CANCELLED, by_client=True)
    offers = [entry.offers.get() for entry in entries]
    assert {(offer.starts_at, offer.practitioner) for offer in offers} == {(slot.starts_at, freed)}
    return slot.starts_at, freed, team[:-1], offers


@pytest.mark.postgres
@pytest.mark.parametrize("named", [0, CLAIMANTS // 2], ids=["all any", "any and named mixed"])
def test_twelve_browsers_claiming_a_freed_time_others_are_free_at_book_it_once(
    transactional_db, named
):
    starts_at, freed, others, offers = freed_time_with_others_free(named=named)
    browsers = [Client(REMOTE_ADDR=f"198.51.100.{n + 1}") for n in range(CLAIMANTS)]
    urls = [offer.get_claim_url() for offer in offers]

    results = all_at_once(lambda n: browsers[n].post(urls[n]), CLAIMANTS)

    assert [result for result in results if isinstance(result, Exception)] == []
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200] * (CLAIMANTS - 1) + [302], statuses
    for response in results:
        if response.status_code == 200:
            text = main_text(page(response))
            assert "This time was just taken" in text
            assert "You are still on the waitlist" in text
    [booking] = ConsultationBooking.objects.active().filter(starts_at=starts_at)
    assert booking.practitioner == freed
    assert booking.email.startswith("waiting")
    # The others were free then, and still are.
    [slot] = [
        slot for slot in bookable_slots(booking.consultation_type) if slot.starts_at == starts_at
    ]
    assert list(slot.practitioners) == others
    assert WaitlistEntry.objects.waiting().count() == CLAIMANTS - 1


@pytest.mark.sqlite
@pytest.mark.parametrize("named", [0, CLAIMANTS // 2], ids=["all any", "any and named mixed"])
def test_on_sqlite_claims_from_separate_processes_book_the_freed_practitioner_once(
    sqlite_site, named
):
    env = sqlite_site.environment()
    freed = run(env, "offers_of_a_time_others_are_free_at", CLAIMANTS - named, named)
    assert len(freed["offers"]) == CLAIMANTS
    assert freed["others_free"]
    offered = sqlite_site.rows(
        "SELECT DISTINCT p.slug FROM booking_waitlistoffer o "
        "JOIN booking_practitioner p ON p.id = o.practitioner_id"
    )
    assert offered == [(freed["freed"],)]

    results = race(env, "claim", [(pk,) for pk in freed["offers"]])

    assert sum("booked" in result for result in results) == 1, results
    assert sum("taken" in result for result in results) == CLAIMANTS - 1, results
    booked = sqlite_site.rows(
        "SELECT p.slug FROM booking_consultationbooking b "
        "JOIN booking_practitioner p ON p.id = b.practitioner_id "
        "WHERE b.status IN ('requested', 'confirmed') AND b.email LIKE 'waiting%'"
    )
    assert booked == [(freed["freed"],)]
