"""
The client's own page for their booking, reached from the signed link in
their emails: a GET (which mail scanners make) only shows it; a POST from
its buttons cancels or moves it; a bad or old link gets a clear page.
"""

import time
from datetime import UTC
from unittest import mock

import pytest
from django.core import signing
from django.test import override_settings
from django.utils import timezone

from booking.models import ConsultationBooking, OutboundEmail
from booking.services import schedule
from booking.signed_links import SALT
from tests.support.booking import (
    ESTHETICIAN,
    NURSE_PRACTITIONER,
    Status,
    book,
    main_text,
    make_booking,
    offered_slots,
    page,
    practitioner,
)

pytestmark = pytest.mark.django_db

SLOT_TAKEN = "That time is no longer available. Please choose another time."
DAY = 24 * 3600


@pytest.fixture
def booking():
    """A skin assessment with the esthetician (the first in the clinic's order)."""
    booking = book()
    assert booking.practitioner.slug == ESTHETICIAN
    return booking


def bookable_slots(booking, **options):
    """The times the booking could move to, with its own practitioner by default."""
    options.setdefault("practitioner", booking.practitioner)
    return schedule.bookable_slots(booking.consultation_type, **options)


def find_slot(booking, starts_at, **options):
    """The time, if free with the booking's own practitioner (the booking itself counts)."""
    options.setdefault("practitioner", booking.practitioner)
    return schedule.ClinicCalendar(booking.consultation_type, **options).find(starts_at)


@pytest.fixture
def url(booking):
    return booking.get_manage_url()


def state(booking):
    """Everything a visit to the page must not change."""
    booking.refresh_from_db()
    return (
        booking.status,
        booking.starts_at,
        booking.blocks_until,
        booking.practitioner_id,
        booking.calendar_sequence,
        booking.updated_at,
        booking.status_changes.count(),
        booking.emails.count(),
    )


def move_form_values(document):
    return [radio.attrs["value"] for radio in document.find_all("input", name="slot")]


def test_manage_page_shows_the_booking_and_its_forms_and_changes_nothing(client, booking, url):
    before = state(booking)

    response = client.get(url)

    document = page(response)
    text = main_text(document)
    assert response.status_code == 200
    assert booking.reference in text
    assert "Move my consultation" in text
    assert "Cancel my consultation" in text
    assert move_form_values(document)
    assert state(booking) == before


def test_manage_page_move_form_posts_the_move_action_with_the_practitioner_named(
    client, booking, url
):
    # The same form as My visits' move page (booking/bookings/includes/move_form.html),
    # told apart here from the page's other POST forms by its action.
    document = page(client.get(url))

    [move_form] = [
        form for form in document.find_all("form") if form.find("input", name="slot") is not None
    ]
    hidden = {
        field.attrs["name"]: field.attrs["value"]
        for field in move_form.find_all("input", type="hidden")
    }
    assert hidden.pop("csrfmiddlewaretoken")
    assert hidden == {"action": "move", "with": "same"}
    same = document.find("select", id="move-with").find("option", value="same")
    assert same.text == f"{booking.practitioner.name}, as now"


def test_manage_page_is_kept_out_of_search_engines(client, url):
    document = page(client.get(url))

    robots = [meta for meta in document.find_all("meta") if meta.attrs.get("name") == "robots"]
    assert [meta.attrs["content"] for meta in robots] == ["noindex"]


def test_moving_form_offers_the_current_time_as_free(client, booking, url):
    document = page(client.get(url))

    current = booking.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    assert current in move_form_values(document)


def test_cancel_cancels_the_booking_and_frees_its_time(client, booking, url):
    assert find_slot(booking, booking.starts_at) is None

    response = client.post(url, {"action": "cancel"})

    booking.refresh_from_db()
    assert response.status_code == 302
    assert response.url == url
    assert booking.status == Status.CANCELLED
    assert booking.status_changes.last().actor == "Client"
    assert booking.emails.filter(kind=OutboundEmail.Kind.CANCELLATION).count() == 1
    assert find_slot(booking, booking.starts_at) is not None
    shown = main_text(page(client.get(url)))
    assert "Your consultation is cancelled." in shown
    assert "can no longer be changed online" in shown


def test_cancelled_booking_cannot_be_cancelled_again(client, booking, url):
    client.post(url, {"action": "cancel"})
    before = state(booking)

    response = client.post(url, {"action": "cancel"}, follow=True)

    assert response.status_code == 200
    assert "can no longer be cancelled online" in main_text(page(response))
    assert state(booking) == before


def test_move_takes_the_new_time_with_the_same_practitioner_and_frees_the_old_one(
    client, booking, url
):
    old = booking.starts_at
    new = bookable_slots(booking)[5]

    response = client.post(url, {"action": "move", "with": "same", "slot": new.value})

    booking.refresh_from_db()
    assert response.status_code == 302
    assert booking.starts_at == new.starts_at
    assert booking.ends_at == new.ends_at
    assert booking.blocks_until == new.ends_at + booking.consultation_type.turnover
    assert booking.practitioner.slug == ESTHETICIAN
    assert booking.status == Status.REQUESTED
    assert booking.emails.filter(kind=OutboundEmail.Kind.RESCHEDULED).count() == 1
    assert find_slot(booking, old) is not None
    assert find_slot(booking, new.starts_at, ignore_booking=None) is None
    assert "Your consultation has moved." in main_text(page(client.get(url)))


def test_moving_form_offers_the_times_of_the_current_practitioner_by_default(client, booking, url):
    daniel = practitioner(NURSE_PRACTITIONER)
    busy = bookable_slots(booking)[5]
    # The esthetician is busy then; the nurse practitioner is not.
    make_booking(starts_at=busy.starts_at, practitioner=booking.practitioner)

    same = page(client.get(url))
    anyone = page(client.get(url, {"with": "any"}))

    assert busy.value not in move_form_values(same)
    assert busy.value in move_form_values(anyone)
    assert schedule.ClinicCalendar(booking.consultation_type).find(
        busy.starts_at
    ).practitioners == (daniel,)
    # Each page's move form says whom it is for; the week links keep it.
    assert same.find("input", type="hidden", name="with").attrs["value"] == "same"
    assert anyone.find("input", type="hidden", name="with").attrs["value"] == "any"
    later = anyone.find("nav", class_="slot-weeks").find("a").attrs["href"]
    assert "with=any" in later


def test_move_with_any_practitioner_goes_to_whoever_is_free_then(client, booking, url):
    busy = bookable_slots(booking)[5]
    make_booking(starts_at=busy.starts_at, practitioner=booking.practitioner)

    response = client.post(url, {"action": "move", "with": "any", "slot": busy.value})

    booking.refresh_from_db()
    assert response.status_code == 302
    assert booking.starts_at == busy.starts_at
    assert booking.practitioner.slug == NURSE_PRACTITIONER
    assert booking.emails.filter(kind=OutboundEmail.Kind.RESCHEDULED).count() == 1


def test_move_with_any_practitioner_stays_with_the_current_one_when_they_are_free(
    client, booking, url
):
    new = bookable_slots(booking)[5]

    client.post(url, {"action": "move", "with": "any", "slot": new.value})

    booking.refresh_from_db()
    assert booking.starts_at == new.starts_at
    assert booking.practitioner.slug == ESTHETICIAN


def test_move_with_the_same_practitioner_to_a_time_only_another_has_free_is_refused(
    client, booking, url
):
    busy = bookable_slots(booking)[5]
    make_booking(starts_at=busy.starts_at, practitioner=booking.practitioner)
    before = state(booking)

    response = client.post(url, {"action": "move", "with": "same", "slot": busy.value})

    assert response.status_code == 200
    assert SLOT_TAKEN in main_text(page(response))
    assert state(booking) == before


def test_posting_the_same_move_again_changes_and_sends_nothing_more(client, booking, url):
    new = bookable_slots(booking)[5]
    client.post(url, {"action": "move", "slot": new.value})
    after_the_move = state(booking)

    # A double click, or the browser posting the form again.
    response = client.post(url, {"action": "move", "slot": new.value})

    assert response.status_code == 302
    assert state(booking) == after_the_move
    assert booking.emails.filter(kind=OutboundEmail.Kind.RESCHEDULED).count() == 1
    assert booking.status_changes.filter(note__startswith="Moved from").count() == 1


@pytest.mark.parametrize("with_whom", ["same", "any"])
def test_choosing_the_time_the_booking_already_has_changes_and_sends_nothing(
    client, booking, url, with_whom
):
    current = booking.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    before = state(booking)

    response = client.post(url, {"action": "move", "with": with_whom, "slot": current})

    assert response.status_code == 302
    assert state(booking) == before
    assert not booking.emails.filter(kind=OutboundEmail.Kind.RESCHEDULED).exists()
    shown = main_text(page(client.get(url)))
    assert "Your consultation is already at that time: nothing has changed." in shown
    assert "Your consultation has moved." not in shown


def test_move_to_a_time_taken_meanwhile_shows_a_clear_message_and_keeps_the_booking(
    client, booking, url
):
    taken = bookable_slots(booking)[5]
    document = page(client.get(url))
    assert taken.value in move_form_values(document)
    # Someone else books her then while the page is open.
    book(taken.starts_at, practitioner=booking.practitioner)
    before = state(booking)

    response = client.post(url, {"action": "move", "slot": taken.value})

    shown = page(response)
    assert response.status_code == 200
    assert SLOT_TAKEN in main_text(shown)
    assert taken.value not in offered_slots(shown)
    assert state(booking) == before


def test_move_without_a_time_asks_for_one(client, booking, url):
    before = state(booking)

    response = client.post(url, {"action": "move"})

    assert response.status_code == 200
    assert "Choose a time for your consultation." in main_text(page(response))
    assert state(booking) == before


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.DECLINED, Status.COMPLETED])
def test_booking_that_no_longer_holds_its_time_cannot_be_moved(client, booking, url, status):
    ConsultationBooking.objects.filter(pk=booking.pk).update(status=status)
    before = state(booking)

    shown = client.get(url)
    response = client.post(url, {"action": "move", "slot": bookable_slots(booking)[5].value})

    assert "Move my consultation" not in main_text(page(shown))
    assert response.status_code == 302
    assert state(booking) == before


def test_unknown_action_changes_nothing(client, booking, url):
    before = state(booking)

    response = client.post(url, {"action": "delete"}, follow=True)

    assert response.status_code == 200
    assert "Please use the buttons on this page" in main_text(page(response))
    assert state(booking) == before


def tampered(token):
    return token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")


BAD_TOKENS = [
    pytest.param(lambda booking: tampered(booking.get_manage_url().split("/")[-2]), id="tampered"),
    pytest.param(lambda booking: "not-a-token", id="garbage"),
    pytest.param(lambda booking: "a:b:c", id="colons"),
    pytest.param(lambda booking: "x" * 2000, id="very long"),
    pytest.param(lambda booking: "%C3%A9t%C3%A9", id="unicode"),
    pytest.param(lambda booking: signing.dumps(booking.reference), id="another salt"),
    pytest.param(lambda booking: signing.dumps("ABCDEFGH", salt=SALT), id="unknown booking"),
]


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_link_gets_a_clear_not_found_page_and_changes_nothing(client, booking, token, method):
    before = state(booking)

    response = getattr(client, method)(
        f"/book/manage/{token(booking)}/", {"action": "cancel"} if method == "post" else None
    )

    text = main_text(page(response))
    assert response.status_code == 404
    assert "This link does not work" in text
    assert booking.reference not in text
    assert state(booking) == before


def test_link_to_an_anonymised_booking_does_not_work(client, booking, url):
    ConsultationBooking.objects.filter(pk=booking.pk).update(anonymised_at=timezone.now())

    response = client.get(url)

    assert response.status_code == 404
    assert "This link does not work" in main_text(page(response))


@pytest.mark.parametrize("method", ["get", "post"])
def test_expired_link_gets_a_clear_gone_page_and_changes_nothing(client, booking, url, method):
    before = state(booking)
    later = time.time() + 121 * DAY  # MANAGE_LINK_MAX_AGE_DAYS is 120.

    with mock.patch("django.core.signing.time.time", return_value=later):
        response = getattr(client, method)(url, {"action": "cancel"})

    text = main_text(page(response))
    assert response.status_code == 410
    assert "This link has expired" in text
    assert booking.reference not in text
    assert state(booking) == before


def test_link_still_works_until_it_expires(client, url):
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 119 * DAY):
        assert client.get(url).status_code == 200


@override_settings(MANAGE_LINK_MAX_AGE_DAYS=1)
def test_link_lifetime_follows_the_setting(client, url):
    assert client.get(url).status_code == 200

    with mock.patch("django.core.signing.time.time", return_value=time.time() + 2 * DAY):
        assert client.get(url).status_code == 410


@pytest.mark.parametrize("start", ["", "nonsense", "0001-01-01", "9999-12-31", "2030-02-30"])
def test_week_links_on_the_manage_page_never_fail(client, url, start):
    assert client.get(url, {"from": start}).status_code == 200
