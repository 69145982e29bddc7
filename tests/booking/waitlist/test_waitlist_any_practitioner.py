"""
An offer names the practitioner whose time it gives (issue 23): a freed time
offered to "any practitioner" clients makes one booking, with the
practitioner whose time was freed, even when others are free then. The
email, the claim page and the admin say who; an offer from before the
practitioner was recorded still claims, with "any" as before. The races are
in test_waitlist_any_practitioner_races.py.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from booking import services
from booking.models import (
    BookingRules,
    ConsultationBooking,
    FreedTime,
    OutboundEmail,
    WaitlistOffer,
)
from booking.services import offers, waitlist
from booking.services.emails import queue_waitlist_email
from booking.services.schedule import bookable_slots
from tests.support.booking import (
    Status,
    book,
    main_text,
    make_consultation_type,
    make_practitioner,
    only_practitioners,
    page,
)
from tests.support.waitlist import make_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    """
    Two practitioners on the same hours who both hold one consultation type:
    (the first in the team's order, the second, the type).
    """
    first = make_practitioner(name="Ana First", display_order=1)
    second = make_practitioner(name="Ben Second", display_order=2)
    only_practitioners(first, second)
    return first, second, make_consultation_type()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the offers' task, the emails) as the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def freed_second(team, committed):
    """
    The second practitioner's booking cancelled while the first is free at
    that time too, with two "any" entries and one naming the second
    waiting: (the time, the "any" offers, the named offer).
    """
    first, second, kind = team
    booking = book(consultation_type=kind, practitioner=second)
    any_entries = [make_entry(n, consultation_type=kind) for n in (1, 2)]
    named = make_entry(3, consultation_type=kind, practitioner=second)
    with committed():
        services.change_status(booking, Status.CANCELLED, by_client=True, note="test")
    any_offers = [WaitlistOffer.objects.get(entry=entry) for entry in any_entries]
    return booking.starts_at, any_offers, WaitlistOffer.objects.get(entry=named)


def with_whom(document):
    """The claim page's answer to "With"."""
    label = next(term for term in document.find_all("dt") if term.text == "With")
    return label.find_next_sibling("dd").text


def free_at(kind, starts_at):
    """Who is free for `kind` at `starts_at`, in the team's order."""
    return next(
        list(slot.practitioners) for slot in bookable_slots(kind) if slot.starts_at == starts_at
    )


def test_the_offers_of_a_freed_time_name_its_practitioner_whatever_the_entry_asked(
    team, freed_second
):
    first, second, kind = team
    starts_at, any_offers, named_offer = freed_second

    assert free_at(kind, starts_at) == [first, second]
    for offer in [*any_offers, named_offer]:
        assert offer.starts_at == starts_at
        assert offer.practitioner == second
        assert offer.consultation_with == second


def test_the_offer_email_says_who_the_consultation_is_with(team, freed_second):
    _, second, _ = team
    _, [offer, _], _ = freed_second

    message = OutboundEmail.objects.get(
        kind=OutboundEmail.Kind.WAITLIST_OFFER, to=offer.entry.email
    )

    assert f"With: {second.name}\n" in message.body
    assert "any practitioner" not in message.body


def test_the_claim_page_says_who_the_consultation_is_with(client, team, freed_second):
    _, second, _ = team
    _, [offer, _], _ = freed_second

    document = page(client.get(offer.get_claim_url()))

    assert with_whom(document) == second.name
    assert "Any practitioner" not in main_text(document)


def test_a_claim_books_the_freed_practitioner_though_another_is_free_first_in_the_team_order(
    team, freed_second
):
    first, second, kind = team
    starts_at, [offer, _], _ = freed_second
    # "Any practitioner" booked now would go to the first: same load, first in order.
    assert free_at(kind, starts_at)[0] == first

    booking = waitlist.claim_offer(offer)

    assert booking.practitioner == second
    assert booking.starts_at == starts_at
    assert free_at(kind, starts_at) == [first]


def test_the_second_any_claim_is_told_the_time_was_taken_though_another_practitioner_is_free(
    client, team, freed_second
):
    first, _, kind = team
    starts_at, [winner, loser], named = freed_second
    assert client.post(winner.get_claim_url()).status_code == 302

    for offer in (loser, named):
        response = client.post(offer.get_claim_url())
        assert response.status_code == 200
        assert "This time was just taken" in main_text(page(response))
        offer.refresh_from_db()
        assert offer.status == WaitlistOffer.Status.TAKEN
    assert ConsultationBooking.objects.active().filter(starts_at=starts_at).count() == 1
    assert free_at(kind, starts_at) == [first]


def test_a_claim_of_an_offer_whose_practitioner_was_booked_meanwhile_is_taken(team, freed_second):
    first, second, kind = team
    starts_at, [offer, _], _ = freed_second
    book(starts_at, consultation_type=kind, practitioner=second)

    with pytest.raises(waitlist.TimeTaken):
        waitlist.claim_offer(offer)

    assert free_at(kind, starts_at) == [first]
    offer.entry.refresh_from_db()
    assert offer.entry.status == offer.entry.Status.WAITING


def legacy_offer(entry, starts_at):
    """An offer as rows from before migration 0022 hold them: no practitioner."""
    rules = BookingRules.current()
    return WaitlistOffer.objects.create(
        entry=entry,
        starts_at=starts_at,
        expires_at=offers.offer_expiry(starts_at, rules=rules, now=timezone.now()),
    )


def test_a_legacy_any_offer_without_a_practitioner_still_claims_with_whoever_is_free(team):
    first, _, kind = team
    starts_at = bookable_slots(kind)[0].starts_at
    offer = legacy_offer(make_entry(consultation_type=kind), starts_at)
    assert offer.consultation_with is None

    booking = waitlist.claim_offer(offer)

    assert booking.practitioner == first  # "any practitioner", as such claims always booked
    offer.refresh_from_db()
    assert (offer.status, offer.booking) == (WaitlistOffer.Status.CLAIMED, booking)


def test_a_legacy_offer_to_a_named_entry_books_that_practitioner(team):
    _, second, kind = team
    starts_at = bookable_slots(kind)[0].starts_at
    offer = legacy_offer(make_entry(consultation_type=kind, practitioner=second), starts_at)

    assert waitlist.claim_offer(offer).practitioner == second


def test_a_legacy_any_offer_page_and_email_say_any_practitioner(client, team):
    _, _, kind = team
    entry = make_entry(consultation_type=kind)
    offer = legacy_offer(entry, bookable_slots(kind)[0].starts_at)

    document = page(client.get(offer.get_claim_url()))
    message = queue_waitlist_email(entry, OutboundEmail.Kind.WAITLIST_OFFER, offer=offer)

    assert with_whom(document) == "Any practitioner who is free"
    assert "With: any practitioner who is free" in message.body


def test_an_offer_by_hand_to_any_names_whom_a_booking_of_the_time_would_go_to(
    team, admin_user, committed
):
    first, second, kind = team
    # 9 AM on a day both work; the first has a consultation at noon that day,
    # so "any" goes to the second (fewer that day) though the first comes first.
    starts_at = next(
        slot.starts_at
        for slot in bookable_slots(kind)
        if (slot.local_start.hour, slot.local_start.minute) == (9, 0)
    )
    book(starts_at + timedelta(hours=3), consultation_type=kind, practitioner=first)
    assert free_at(kind, starts_at) == [first, second]
    entry = make_entry(consultation_type=kind)

    with committed():
        offer = offers.offer_time(entry, starts_at, by=admin_user)

    assert offer.practitioner == second
    assert waitlist.claim_offer(offer).practitioner == second


def test_an_offer_by_hand_names_whom_the_page_showed_while_they_are_free(
    team, admin_client, committed
):
    first, second, kind = team
    entry = make_entry(consultation_type=kind)
    slot = bookable_slots(kind)[0]
    assert set(slot.practitioners) == {first, second}

    # The page showed the second, though "any" would now go to the first.
    with committed():
        response = admin_client.post(
            f"/admin/booking/waitlistentry/{entry.pk}/offer/",
            {"slot": f"{slot.value} {second.pk}"},
            follow=True,
        )

    offer = WaitlistOffer.objects.get(entry=entry)
    assert offer.practitioner == second
    assert f"with {second.name} to {entry.full_name}" in response.content.decode()


def test_an_offer_by_hand_with_someone_no_longer_free_then_is_refused(team, admin_client):
    first, second, kind = team
    entry = make_entry(consultation_type=kind)
    slot = bookable_slots(kind)[0]
    book(slot.starts_at, consultation_type=kind, practitioner=second)

    response = admin_client.post(
        f"/admin/booking/waitlistentry/{entry.pk}/offer/",
        {"slot": f"{slot.value} {second.pk}"},
        follow=True,
    )

    assert f"{second.name} is no longer free then" in response.content.decode()
    assert not WaitlistOffer.objects.exists()


def test_an_offer_by_hand_to_a_named_entry_names_their_practitioner(team, admin_user, committed):
    _, second, kind = team
    entry = make_entry(consultation_type=kind, practitioner=second)
    starts_at = bookable_slots(kind, practitioner=second)[0].starts_at

    with committed():
        offer = offers.offer_time(entry, starts_at, by=admin_user)

    assert offer.practitioner == second


def test_the_offer_by_hand_page_shows_whom_each_time_is_with(admin_client, team):
    first, _, kind = team
    entry = make_entry(consultation_type=kind)
    day = bookable_slots(kind)[0].local_start.date()

    response = admin_client.get(
        f"/admin/booking/waitlistentry/{entry.pk}/offer/", {"from": day.isoformat()}
    )

    buttons = page(response).find_all("button", name="slot")
    assert buttons
    assert all(button.text.endswith(f"with {first.name}") for button in buttons)


def test_no_offer_is_made_without_its_practitioner(team):
    _, _, kind = team
    entry = make_entry(consultation_type=kind)
    starts_at = bookable_slots(kind)[0].starts_at

    with pytest.raises(ValueError, match="names the practitioner"):
        offers._make_offer(entry, starts_at, None, rules=BookingRules.current(), now=timezone.now())

    assert not WaitlistOffer.objects.exists()


# A time freed by a superuser's delete in the admin is offered as a
# cancellation's is (it wrote no FreedTime before issue 23).


@pytest.mark.parametrize("how", ["change page", "bulk action"])
def test_a_booking_deleted_in_the_admin_offers_its_time_to_the_waitlist(
    admin_client, team, committed, how
):
    _, second, kind = team
    booking = book(consultation_type=kind, practitioner=second)
    entry = make_entry(consultation_type=kind)

    with committed():
        if how == "change page":
            response = admin_client.post(
                f"/admin/booking/consultationbooking/{booking.pk}/delete/", {"post": "yes"}
            )
        else:
            response = admin_client.post(
                "/admin/booking/consultationbooking/",
                {"action": "delete_selected", "_selected_action": [booking.pk], "post": "yes"},
            )

    assert response.status_code == 302
    assert not ConsultationBooking.objects.filter(pk=booking.pk).exists()
    [offer] = WaitlistOffer.objects.filter(entry=entry)
    assert (offer.starts_at, offer.practitioner) == (booking.starts_at, second)


def test_deleting_a_cancelled_booking_frees_nothing(team):
    _, _, kind = team
    booking = book(consultation_type=kind)
    ConsultationBooking.objects.filter(pk=booking.pk).update(status=Status.CANCELLED)
    booking.refresh_from_db()

    services.delete_bookings([booking])

    assert not ConsultationBooking.objects.filter(pk=booking.pk).exists()
    assert not FreedTime.objects.exists()
