"""
The public booking form, driven through the test client as a browser would:
GET the page, fill in what it shows, POST it back with its form token.
"""

import time
from datetime import UTC, timedelta
from unittest import mock

import pytest
from django.test import Client, override_settings
from django.utils import dateformat, timezone

from booking import services
from booking.availability import parse_slot_value
from booking.models import REFERENCE_ALPHABET, ConsultationBooking
from booking.services import privacy_policy_version
from tests.booking_helpers import (
    BOOK_URL,
    CLINIC_ZONE,
    VISITOR,
    VISITOR_PHONE_E164,
    booking_form,
    error_summary,
    filled_booking_form,
    main_text,
    make_booking,
    offered_slots,
    page,
    resubmitted_values,
)
from tests.factories import MEDICAL, PROFESSIONAL
from treatments.models import SitePage, SkinConcern

pytestmark = pytest.mark.django_db

SLOT_TAKEN = "That time is no longer available. Please choose another time."


@pytest.fixture
def concerns():
    return list(SkinConcern.objects.for_guide().values_list("slug", flat=True)[:2])


@pytest.fixture
def full_answers(concerns):
    """Every question answered, so a test can tell which answers a refusal kept."""
    return {
        "treatment": MEDICAL,
        "concerns": concerns,
        "preferred_contact": "phone",
        "message": "Mornings suit me best.",
        "marketing_opt_in": "on",
    }


def received_booking(response):
    assert response.status_code == 302, error_summary(page(response))
    reference = response.url.rstrip("/").rsplit("/", 1)[-1]
    assert response.url == f"/book/received/{reference}/"
    return ConsultationBooking.objects.get(reference=reference)


def test_booking_page_offers_times_as_radio_buttons_grouped_by_day_in_clinic_time(client):
    document = page(client.get(BOOK_URL))

    picker = document.find("fieldset", class_="slot-picker")
    days = picker.find_all("fieldset", class_="slot-day")
    assert picker.find("legend").text == "Choose a time"
    assert "Times are clinic time (America/New_York)." in picker.text
    assert 1 <= len(days) <= 7
    for day in days:
        assert day.find("legend").text
        assert day.find_all("input", type="radio", name="slot")


def test_every_field_of_the_booking_form_has_a_label(client):
    form = booking_form(page(client.get(BOOK_URL)))
    labels = {label.attrs.get("for"): label.text for label in form.find_all("label")}

    controls = [
        element
        for element in form.iter()
        if element.tag in {"input", "select", "textarea"}
        and element.attrs.get("type") not in {"hidden", "submit"}
    ]

    assert {control.attrs["name"] for control in controls} >= {
        "slot",
        "treatment",
        "concerns",
        "full_name",
        "email",
        "phone",
        "preferred_contact",
        "message",
        "consent",
        "marketing_opt_in",
    }
    for control in controls:
        assert labels.get(control.attrs.get("id")), f"{control} has no label"


def test_spam_trap_field_is_hidden_by_a_class_not_an_inline_style(client):
    form = booking_form(page(client.get(BOOK_URL)))

    trap = form.find("input", name="website")
    assert any("form-trap" in element.classes for element in trap.ancestors())
    assert not [element for element in form.iter() if "style" in element.attrs]


def test_later_dates_link_shows_the_following_week(client):
    first_week = page(client.get(BOOK_URL))
    later = first_week.find("nav", class_="slot-weeks").find("a")
    assert later.text == "Later dates"

    next_week = page(client.get(BOOK_URL + later.attrs["href"].split("#")[0]))

    assert offered_slots(next_week)[0] > offered_slots(first_week)[-1]
    assert next_week.find("nav", class_="slot-weeks").find("a").text == "Earlier dates"


@pytest.mark.parametrize("start", ["yesterday", "2001-01-01", "9999-12-31", "2030-02-30"])
def test_odd_week_links_show_the_first_week(client, start):
    first_week = offered_slots(page(client.get(BOOK_URL)))

    response = client.get(BOOK_URL, {"from": start})

    assert response.status_code == 200
    assert offered_slots(page(response)) == first_week


def test_treatment_in_the_address_is_preselected(client):
    document = page(client.get(BOOK_URL, {"treatment": PROFESSIONAL}))

    selected = booking_form(document).find("select", name="treatment").find_all("option")
    assert [option.attrs["value"] for option in selected if "selected" in option.attrs] == [
        PROFESSIONAL
    ]


def test_unknown_treatment_in_the_address_is_ignored(client):
    response = client.get(BOOK_URL, {"treatment": "no-such-facial"})

    options = booking_form(page(response)).find("select", name="treatment").find_all("option")
    assert response.status_code == 200
    selected = [option for option in options if "selected" in option.attrs]
    assert [option.text for option in selected] in ([], ["Not sure yet — help me decide"])


def test_booking_redirects_to_a_page_with_the_reference_the_time_in_clinic_time_and_next_steps(
    client,
):
    _, data = filled_booking_form(client)

    response = client.post(BOOK_URL, data)

    booking = received_booking(response)
    document = page(client.get(response.url))
    reference = document.find(class_="booking-reference").text
    local = timezone.localtime(booking.starts_at, CLINIC_ZONE)
    assert reference == booking.reference
    assert len(reference) == 8
    assert set(reference) <= set(REFERENCE_ALPHABET)
    assert booking.starts_at == parse_slot_value(data["slot"])
    assert (
        f"{dateformat.format(local, 'l j F Y, g:i A')} ({local.tzname()}, clinic time)"
        in main_text(document)
    )
    assert local.tzname() in {"EST", "EDT"}
    assert "What happens next" in main_text(document)
    assert "We have emailed you a receipt" in main_text(document)


def test_booking_stores_what_the_visitor_entered(client, full_answers, concerns):
    _, data = filled_booking_form(client, **full_answers)
    before = timezone.now()

    booking = received_booking(client.post(BOOK_URL, data))

    assert booking.status == ConsultationBooking.Status.REQUESTED
    assert booking.full_name == VISITOR["full_name"]
    assert booking.email == VISITOR["email"]
    assert str(booking.phone) == VISITOR_PHONE_E164
    assert booking.treatment.slug == MEDICAL
    assert sorted(booking.concerns.values_list("slug", flat=True)) == sorted(concerns)
    assert booking.preferred_contact == "phone"
    assert booking.message == "Mornings suit me best."
    assert booking.marketing_opt_in is True
    assert before <= booking.consent_given_at <= timezone.now()
    assert booking.privacy_policy_version == privacy_policy_version() != "unpublished"
    assert booking.ends_at - booking.starts_at == timedelta(minutes=30)


def test_marketing_opt_in_is_off_unless_ticked(client):
    _, data = filled_booking_form(client)

    booking = received_booking(client.post(BOOK_URL, data))

    assert booking.marketing_opt_in is False
    assert booking.treatment is None
    assert booking.treatment_label == "Not sure yet — help me decide"


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("(212) 555-0147", "+12125550147"),
        ("212.555.0147", "+12125550147"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_is_stored_in_international_format(client, phone, stored):
    _, data = filled_booking_form(client, phone=phone)

    booking = received_booking(client.post(BOOK_URL, data))

    assert booking.phone.as_e164 == stored


OUTSIDE_HOURS = object()

INVALID_ANSWERS = [
    pytest.param("full_name", "", "Enter your full name.", id="missing name"),
    pytest.param(
        "email", "ada.example.com", "Enter an email address like name@example.com.", id="bad email"
    ),
    pytest.param("phone", "555-01", "Enter a valid phone number", id="bad phone"),
    pytest.param(
        "consent",
        None,
        "Please agree to the privacy policy so we can hold your details.",
        id="no consent",
    ),
    pytest.param(
        "treatment",
        "laser-resurfacing",
        "Please choose a treatment from the list.",
        id="unknown treatment",
    ),
    pytest.param("slot", "2030-02-30T25:99Z", SLOT_TAKEN, id="forged slot"),
    pytest.param("slot", OUTSIDE_HOURS, SLOT_TAKEN, id="slot outside hours"),
    pytest.param("slot", None, "Choose a time for your consultation.", id="no slot"),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID_ANSWERS)
def test_invalid_answer_shows_the_form_again_with_a_message_and_the_other_answers_kept(
    client, full_answers, field, value, message
):
    document, data = filled_booking_form(client, **full_answers)
    if value is OUTSIDE_HOURS:
        # 3 AM on the first day offered: a real time, on a day the clinic opens.
        first = timezone.localtime(parse_slot_value(data["slot"]), CLINIC_ZONE)
        value = first.replace(hour=3, minute=0).astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        assert value not in offered_slots(document)
    if value is None:
        del data[field]
    else:
        data[field] = value

    response = client.post(BOOK_URL, data)

    shown_again = page(response)
    assert response.status_code == 200
    assert any(message in error for error in error_summary(shown_again))
    assert not ConsultationBooking.objects.exists()
    kept = resubmitted_values(shown_again)
    for name in ["slot", "full_name", "email", "phone", "treatment", *full_answers]:
        if name != field:
            assert kept.get(name) == data[name], name


# Addresses Django's EmailValidator accepts (RFC 5321 allows quoted local parts
# and IP-literal domains) but that no message to the client could go out to,
# or that would carry a raw control character into a mail header.
UNUSABLE_EMAILS = [
    pytest.param('"\x0b"@example.com', "invisible control characters", id="control character"),
    pytest.param('"\x1b[31mred"@example.com', "invisible control characters", id="escape"),
    pytest.param('""@example.com', "without quotation marks", id="empty local part"),
    pytest.param('"ada quinterra"@example.com', "without quotation marks", id="quoted local part"),
    pytest.param("ada@[127.0.0.1]", "with a domain name", id="IP-literal domain"),
]


@pytest.mark.parametrize(("email", "message"), UNUSABLE_EMAILS)
def test_email_address_no_message_could_reach_is_refused_with_a_clear_message(
    client, email, message
):
    _, data = filled_booking_form(client, email=email)

    response = client.post(BOOK_URL, data)

    assert response.status_code == 200
    assert any(message in error for error in error_summary(page(response)))
    assert not ConsultationBooking.objects.exists()


def test_filled_spam_trap_refuses_the_booking(client):
    _, data = filled_booking_form(client, website="https://spam.example")

    response = client.post(BOOK_URL, data)

    assert response.status_code == 200
    assert "Please leave this field empty." in error_summary(page(response))
    assert not ConsultationBooking.objects.exists()


@override_settings(BOOKING_MIN_FILL_SECONDS=5)
def test_form_sent_back_faster_than_a_person_could_fill_it_is_refused(client):
    _, data = filled_booking_form(client)

    response = client.post(BOOK_URL, data)

    assert response.status_code == 200
    assert (
        "That was quicker than we expected. Please check your details and send the form again."
        in error_summary(page(response))
    )
    assert not ConsultationBooking.objects.exists()

    # The page keeps the time it was first shown: sent again later, it goes through.
    again = resubmitted_values(page(response))
    assert again["form_token"] == data["form_token"]
    later = time.time() + 6
    with mock.patch("booking.forms.time.time", return_value=later):
        received_booking(client.post(BOOK_URL, again | {"consent": "on"}))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda token: token[:-3] + "abc", id="tampered signature"),
        pytest.param(lambda token: "x" + token, id="tampered payload"),
        pytest.param(lambda token: "", id="missing"),
    ],
)
def test_form_with_a_tampered_token_is_refused_and_given_a_fresh_one(client, token):
    _, data = filled_booking_form(client)
    data["form_token"] = token(data["form_token"])

    response = client.post(BOOK_URL, data)

    document = page(response)
    assert response.status_code == 200
    assert (
        "This form was open too long or could not be checked. Please check your details and send it again."
        in error_summary(document)
    )
    assert not ConsultationBooking.objects.exists()
    fresh = resubmitted_values(document)
    assert fresh["form_token"] not in {"", data["form_token"]}
    assert fresh["full_name"] == VISITOR["full_name"]
    received_booking(client.post(BOOK_URL, fresh | {"consent": "on"}))


def test_form_token_older_than_a_day_is_refused(client):
    _, data = filled_booking_form(client)

    with mock.patch("django.core.signing.time.time", return_value=time.time() + 25 * 3600):
        response = client.post(BOOK_URL, data)

    assert response.status_code == 200
    assert "This form was open too long" in " ".join(error_summary(page(response)))
    assert not ConsultationBooking.objects.exists()


def test_time_taken_while_the_form_was_open_is_refused_with_the_answers_kept(client, full_answers):
    document, data = filled_booking_form(client, **full_answers)
    chosen = parse_slot_value(data["slot"])
    make_booking(starts_at=chosen)  # Someone else books it first.

    response = client.post(BOOK_URL, data)

    shown_again = page(response)
    assert response.status_code == 200
    assert SLOT_TAKEN in error_summary(shown_again)
    assert data["slot"] not in offered_slots(shown_again)
    kept = resubmitted_values(shown_again)
    for name in ["full_name", "email", "phone", "treatment", *full_answers]:
        assert kept[name] == data[name], name
    assert kept["form_token"] == data["form_token"]
    assert ConsultationBooking.objects.count() == 1

    # Choosing another time then books with the same form.
    kept |= {"slot": offered_slots(shown_again)[0], "consent": "on"}
    received_booking(client.post(BOOK_URL, kept))
    assert ConsultationBooking.objects.count() == 2


def test_time_taken_between_the_check_and_the_save_is_refused_by_the_database(client):
    """
    The other request commits after this one has checked the slot: only the
    unique (slot, seat) index can refuse it now, and the visitor sees the same
    clear message rather than an error page.
    """
    _, data = filled_booking_form(client)
    real_find_slot = services.find_slot

    def find_slot_then_lose_the_race(starts_at, **kwargs):
        slot = real_find_slot(starts_at, **kwargs)
        make_booking(starts_at=slot.starts_at)
        return slot

    with mock.patch.object(services, "find_slot", find_slot_then_lose_the_race):
        response = client.post(BOOK_URL, data)

    assert response.status_code == 200
    assert SLOT_TAKEN in error_summary(page(response))
    # (The stand-in for the other request ran on this connection, inside the
    # refused transaction, so it is rolled back too; only the outcome for this
    # visitor is the point here.)
    assert not ConsultationBooking.objects.filter(email=VISITOR["email"]).exists()


def test_posting_the_same_form_twice_books_once_and_shows_the_same_booking(client):
    _, data = filled_booking_form(client)

    first = client.post(BOOK_URL, data)
    second = client.post(BOOK_URL, data)

    assert received_booking(first) == received_booking(second)
    assert ConsultationBooking.objects.count() == 1
    assert client.get(second.url).status_code == 200


def test_second_post_of_the_same_form_from_another_tab_changing_the_time_books_nothing_new(
    client,
):
    document, data = filled_booking_form(client)
    first = received_booking(client.post(BOOK_URL, data))

    again = client.post(BOOK_URL, data | {"slot": offered_slots(document)[1]})

    assert received_booking(again) == first
    assert ConsultationBooking.objects.count() == 1


def test_received_page_is_not_shown_to_another_browser(client):
    _, data = filled_booking_form(client)
    url = client.post(BOOK_URL, data).url

    assert client.get(url).status_code == 200
    assert Client().get(url).status_code == 404


def test_another_browser_posting_someone_elses_form_token_is_not_shown_their_receipt(client):
    _, data = filled_booking_form(client)
    theirs = received_booking(client.post(BOOK_URL, data))
    other = Client()
    _, own_form = filled_booking_form(other)

    # The other browser sends its own CSRF token with the first one's form token.
    response = other.post(BOOK_URL, data | {"csrfmiddlewaretoken": own_form["csrfmiddlewaretoken"]})

    assert response.status_code == 200
    assert (
        "This form was open too long or could not be checked. Please check your details and send it again."
        in error_summary(page(response))
    )
    assert theirs.reference not in response.content.decode()
    assert other.get(f"/book/received/{theirs.reference}/").status_code == 404
    assert ConsultationBooking.objects.count() == 1


def cache_directives(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


def test_booking_pages_are_never_stored_by_any_cache(client):
    shown = client.get(BOOK_URL)
    _, data = filled_booking_form(client)
    refused = client.post(BOOK_URL, data | {"full_name": ""})
    booked = client.post(BOOK_URL, data)
    received = client.get(booked.url)
    booking = received_booking(booked)
    managed = client.get(booking.get_manage_url())

    for response in (shown, refused, booked, received, managed):
        assert {"private", "no-store"} <= cache_directives(response), response.get("Cache-Control")


def test_received_page_for_an_unknown_reference_is_not_found(client):
    assert client.get("/book/received/ABCDEFGH/").status_code == 404


def test_privacy_policy_page_shows_the_clinics_text(client):
    policy = SitePage.objects.get(key=SitePage.Key.PRIVACY)

    response = client.get("/privacy/")

    assert response.status_code == 200
    assert policy.heading in main_text(page(response))
