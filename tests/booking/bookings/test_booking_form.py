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

from booking.models import REFERENCE_ALPHABET, ConsultationBooking, Practitioner
from booking.services.bookings import privacy_policy_version
from booking.services.schedule import ClinicCalendar, parse_slot_value
from tests.support.booking import (
    ASSESSMENT,
    BOOK_URL,
    CLINIC_ZONE,
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    PROFESSIONAL_CONSULTATION,
    VISITOR,
    VISITOR_PHONE_E164,
    booking_form,
    chosen_practitioner,
    chosen_type,
    clinic_clock,
    consultation_type,
    error_summary,
    filled_booking_form,
    main_text,
    make_booking,
    offered_slots,
    page,
    practitioner,
    received_booking,
    request_form_page,
    resubmitted_values,
)
from tests.support.content import MEDICAL, PROFESSIONAL
from treatments.models import SitePage, SkinConcern

pytestmark = pytest.mark.django_db

SLOT_TAKEN = "That time is no longer available. Please choose another time."


@pytest.fixture
def concerns():
    return list(SkinConcern.objects.for_guide().values_list("slug", flat=True)[:2])


# The form as it shows once full_answers' consultation and practitioner are
# chosen: its first time is one the 45-minute medical consultation can take
# with the nurse. (The untouched form's first time is the skin assessment's,
# which need not be: late in the day 30 minutes fit where 45 do not.)
FULL_ANSWERS_PAGE = f"{BOOK_URL}?type={MEDICAL_CONSULTATION}&practitioner={NURSE_PRACTITIONER}"


@pytest.fixture
def full_answers(concerns):
    """
    Every question answered, so a test can tell which answers a refusal kept.
    Fill them in on FULL_ANSWERS_PAGE, which offers this consultation's times.
    """
    return {
        "consultation_type": MEDICAL_CONSULTATION,
        "practitioner": NURSE_PRACTITIONER,
        "concerns": concerns,
        "preferred_contact": "phone",
        "message": "Mornings suit me best.",
        "marketing_opt_in": "on",
    }


def take_time(starts_at):
    """Someone else books every practitioner at `starts_at`."""
    for person in Practitioner.objects.all():
        make_booking(starts_at=starts_at, practitioner=person)


def test_booking_page_offers_a_fortnight_of_days_and_the_chosen_days_times_by_part_of_the_day(
    client,
):
    document = page(client.get(BOOK_URL))

    days = document.find("ol", class_="day-strip").find_all("li")
    weekdays = [day.find(class_="day-strip-weekday").text for day in days]
    # The seeded hours are weekdays': two weeks of them, never a weekend.
    assert len(days) == 10
    assert "Sat" not in weekdays and "Sun" not in weekdays
    for day in days:
        assert day.find(class_="day-strip-free").text.endswith("free")
    chosen = [
        link
        for link in document.find_all("a", class_="day-strip-day")
        if "aria-current" in link.attrs
    ]
    assert len(chosen) == 1
    time_step = document.find(id="step-time").parent
    assert "Times are clinic time (America/New_York)." in time_step.text
    parts = [heading.text for heading in time_step.find_all("h3")]
    assert parts == ["Morning", "Afternoon"]
    labels = [link.text for link in time_step.find_all("a", class_="time-list-time")]
    assert labels[0] == "9:00 AM EST" or labels[0].endswith((" EST", " EDT"))
    # The chosen day's times alone, where the old page listed every time of a week.
    assert len(labels) == len(offered_slots(document)) <= 32


def test_every_field_of_the_booking_form_has_a_label(client):
    form = booking_form(request_form_page(client))
    labels = {label.attrs.get("for"): label.text for label in form.find_all("label")}

    controls = [
        element
        for element in form.iter()
        if element.tag in {"input", "select", "textarea"}
        and element.attrs.get("type") not in {"hidden", "submit"}
    ]

    # The consultation, practitioner and time are the steps' choices, sent as hidden fields.
    assert {control.attrs["name"] for control in controls} >= {
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
    form = booking_form(request_form_page(client))

    trap = form.find("input", name="website")
    assert any("form-trap" in element.classes for element in trap.ancestors())
    assert not [element for element in form.iter() if "style" in element.attrs]


def test_later_days_link_shows_the_following_fortnight(client):
    first = page(client.get(BOOK_URL))
    later = first.find("nav", class_="day-strip-weeks").find("a")
    assert later.text == "Later days"

    following = page(client.get(later.attrs["href"].split("#")[0]))

    def strip(document):
        return [link.attrs["href"] for link in document.find_all("a", class_="day-strip-day")]

    assert offered_slots(following)[0] > offered_slots(first)[-1]
    assert not set(strip(following)) & set(strip(first))
    assert following.find("nav", class_="day-strip-weeks").find("a").text == "Earlier days"


@pytest.mark.parametrize("start", ["yesterday", "2001-01-01", "9999-12-31", "2030-02-30"])
def test_odd_week_links_show_the_first_week(client, start):
    first_week = offered_slots(page(client.get(BOOK_URL)))

    response = client.get(BOOK_URL, {"from": start})

    assert response.status_code == 200
    assert offered_slots(page(response)) == first_week


def test_the_page_offers_each_consultation_type_and_any_practitioner_by_default(client):
    document = page(client.get(BOOK_URL))

    def cards(step):
        section = document.find(id=f"step-{step}").parent
        return [
            [
                line.text
                for line in card.find_all("span")
                if "booking-card-chosen" not in line.classes
            ]
            for card in section.find_all("a", class_="booking-card")
        ]

    assert cards("consultation") == [
        [
            "Skin assessment",
            "30 minutes, Complimentary",
            "With an esthetician or a medical provider",
        ],
        [
            "Professional facial consultation",
            "30 minutes, Complimentary",
            "With an esthetician or a medical provider",
        ],
        [
            "Medical-grade facial consultation",
            "45 minutes, $50, credited to your treatment",
            "With a medical provider",
        ],
    ]
    assert cards("practitioner") == [
        ["Anyone", "Whoever is free at the time you choose"],
        ["Maya Chen", "Licensed esthetician"],
        ["Daniel Okafor", "Nurse practitioner, NP-C"],
    ]
    assert chosen_type(document) == ASSESSMENT
    assert chosen_practitioner(document) == ""


@pytest.mark.parametrize(
    ("treatment", "preselected"),
    [(PROFESSIONAL, PROFESSIONAL_CONSULTATION), (MEDICAL, MEDICAL_CONSULTATION)],
)
def test_treatment_in_the_address_preselects_the_consultation_about_it(
    client, treatment, preselected
):
    # One moment for both reads, so minimum notice cannot pass a time between them.
    with clinic_clock(timezone.now()):
        document = page(client.get(BOOK_URL, {"treatment": treatment}))
        calendar = ClinicCalendar(consultation_type(preselected))

    assert chosen_type(document) == preselected
    # The times shown are that consultation's.
    first = parse_slot_value(offered_slots(document)[0])
    assert first == calendar.week().days[0][1][0].starts_at


def test_unknown_treatment_in_the_address_is_ignored(client):
    response = client.get(BOOK_URL, {"treatment": "no-such-facial"})

    assert response.status_code == 200
    assert chosen_type(page(response)) == ASSESSMENT


def test_type_and_practitioner_in_the_address_are_preselected(client):
    document = page(
        client.get(BOOK_URL, {"type": PROFESSIONAL_CONSULTATION, "practitioner": ESTHETICIAN})
    )

    assert chosen_type(document) == PROFESSIONAL_CONSULTATION
    assert chosen_practitioner(document) == ESTHETICIAN


@pytest.mark.parametrize(
    ("query", "preselected"),
    [
        pytest.param({"type": "no-such-type"}, (ASSESSMENT, ""), id="unknown type"),
        pytest.param({"practitioner": "nobody"}, (ASSESSMENT, ""), id="unknown practitioner"),
    ],
)
def test_unknown_type_or_practitioner_in_the_address_is_ignored(client, query, preselected):
    response = client.get(BOOK_URL, query)

    document = page(response)
    assert response.status_code == 200
    assert (chosen_type(document), chosen_practitioner(document)) == preselected


def test_practitioner_from_the_team_page_gets_a_consultation_they_hold(client):
    # The medical-grade facial's consultation needs a medical provider: with
    # the esthetician, the form starts on the first one she holds instead.
    document = page(client.get(BOOK_URL, {"practitioner": ESTHETICIAN, "treatment": MEDICAL}))

    assert chosen_type(document) == ASSESSMENT
    assert chosen_practitioner(document) == ESTHETICIAN
    assert "does not hold" not in main_text(document)


def test_show_times_shows_the_times_of_the_new_choice_with_everything_typed_kept(client):
    _, data = filled_booking_form(client, message="Mornings suit me best.")
    take_time(parse_slot_value(data["slot"]))

    response = client.post(
        BOOK_URL,
        data
        | {
            "consultation_type": MEDICAL_CONSULTATION,
            "practitioner": NURSE_PRACTITIONER,
            "show_times": "1",
        },
    )

    shown_again = page(response)
    kept = resubmitted_values(shown_again)
    assert response.status_code == 200
    assert error_summary(shown_again) == []
    assert not ConsultationBooking.objects.filter(email=VISITOR["email"]).exists()
    assert (kept["consultation_type"], kept["practitioner"]) == (
        MEDICAL_CONSULTATION,
        NURSE_PRACTITIONER,
    )
    for name in ["full_name", "email", "phone", "message"]:
        assert kept[name] == data[name], name
    calendar = ClinicCalendar(
        consultation_type(MEDICAL_CONSULTATION), practitioner=practitioner(NURSE_PRACTITIONER)
    )
    # The day of the time chosen before, if it has times for the new choice.
    days = dict(calendar.fortnight().days)
    shown_day = days.get(timezone.localdate(parse_slot_value(data["slot"]))) or next(
        slots for slots in days.values() if slots
    )
    assert offered_slots(shown_again) == [slot.value for slot in shown_day]


def test_practitioner_who_does_not_hold_the_type_is_explained_not_booked(client, full_answers):
    _, data = filled_booking_form(client, FULL_ANSWERS_PAGE, **full_answers)

    response = client.post(BOOK_URL, data | {"practitioner": ESTHETICIAN})

    shown_again = page(response)
    problem = (
        "Maya Chen does not hold medical-grade facial consultations. "
        "Choose another practitioner, or anyone."
    )
    assert response.status_code == 200
    assert problem in error_summary(shown_again)
    assert problem in shown_again.find(id="step-practitioner").parent.text
    assert offered_slots(shown_again) == []
    assert "No consultation times are free" not in main_text(shown_again)
    assert not ConsultationBooking.objects.exists()


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
    _, data = filled_booking_form(client, FULL_ANSWERS_PAGE, **full_answers)
    before = timezone.now()

    booking = received_booking(client.post(BOOK_URL, data))

    assert booking.status == ConsultationBooking.Status.REQUESTED
    assert booking.full_name == VISITOR["full_name"]
    assert booking.email == VISITOR["email"]
    assert str(booking.phone) == VISITOR_PHONE_E164
    assert booking.consultation_type.slug == MEDICAL_CONSULTATION
    assert booking.practitioner.slug == NURSE_PRACTITIONER
    assert booking.treatment.slug == MEDICAL
    assert sorted(booking.concerns.values_list("slug", flat=True)) == sorted(concerns)
    assert booking.preferred_contact == "phone"
    assert booking.message == "Mornings suit me best."
    assert booking.marketing_opt_in is True
    assert before <= booking.consent_given_at <= timezone.now()
    assert booking.privacy_policy_version == privacy_policy_version() != "unpublished"
    assert booking.ends_at - booking.starts_at == timedelta(minutes=45)
    assert booking.blocks_until - booking.ends_at == timedelta(minutes=10)


def test_marketing_opt_in_is_off_unless_ticked(client):
    _, data = filled_booking_form(client)

    booking = received_booking(client.post(BOOK_URL, data))

    assert booking.marketing_opt_in is False


def test_untouched_form_books_a_skin_assessment_with_any_practitioner(client):
    _, data = filled_booking_form(client)
    assert (data["consultation_type"], data["practitioner"]) == (ASSESSMENT, "")

    booking = received_booking(client.post(BOOK_URL, data))

    assert booking.consultation_type.slug == ASSESSMENT
    assert booking.treatment is None
    assert booking.treatment_label == "Not sure yet — help me decide"
    # Nobody has a consultation that day yet: the first in the clinic's order.
    assert booking.practitioner.slug == ESTHETICIAN
    assert booking.ends_at - booking.starts_at == timedelta(minutes=30)


def test_received_page_names_the_consultation_and_the_practitioner(client, full_answers):
    _, data = filled_booking_form(client, FULL_ANSWERS_PAGE, **full_answers)

    response = client.post(BOOK_URL, data)

    received_booking(response)
    text = main_text(page(client.get(response.url)))
    assert "Medical-grade facial consultation (45 minutes)" in text
    assert "Daniel Okafor, Nurse practitioner, NP-C" in text


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
OFF_THE_GRID = object()

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
        "consultation_type",
        "laser-resurfacing",
        "Please choose a consultation from the list.",
        id="unknown consultation type",
    ),
    pytest.param(
        "practitioner",
        "dr-nobody",
        "Please choose a practitioner from the list.",
        id="unknown practitioner",
    ),
    pytest.param("slot", "2030-02-30T25:99Z", SLOT_TAKEN, id="forged slot"),
    pytest.param("slot", OUTSIDE_HOURS, SLOT_TAKEN, id="slot outside hours"),
    pytest.param("slot", OFF_THE_GRID, "Please choose one of the times shown.", id="slot off grid"),
    pytest.param("slot", None, "Choose a time for your consultation.", id="no slot"),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID_ANSWERS)
def test_invalid_answer_shows_the_form_again_with_a_message_and_the_other_answers_kept(
    client, full_answers, field, value, message
):
    document, data = filled_booking_form(client, FULL_ANSWERS_PAGE, **full_answers)
    if value is OUTSIDE_HOURS:
        # 3 AM on the first day offered: a real time, on a day the clinic opens.
        first = timezone.localtime(parse_slot_value(data["slot"]), CLINIC_ZONE)
        value = first.replace(hour=3, minute=0).astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        assert value not in offered_slots(document)
    if value is OFF_THE_GRID:
        # Seven minutes past the first time offered: in hours, off the 15-minute grid.
        first = parse_slot_value(data["slot"])
        value = (first + timedelta(minutes=7)).strftime("%Y-%m-%dT%H:%MZ")
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
    # The times shown are those of the consultation chosen: with none
    # recognised, there is no time to keep.
    not_kept = {field, "slot"} if field == "consultation_type" else {field}
    for name in ["slot", "full_name", "email", "phone", *full_answers]:
        if name not in not_kept:
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
    pytest.param("ada@exam\u200bple.com", "invisible", id="zero-width space in the domain"),
    pytest.param("ada@localhost", "with a full domain name", id="dotless domain"),
    pytest.param("ada%evil.example@example.com", "without % or !", id="percent hack"),
    pytest.param("evil.example!ada@example.com", "without % or !", id="bang path"),
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
    with mock.patch("booking.form_tokens.time.time", return_value=later):
        received_booking(client.post(BOOK_URL, again | {"consent": "on"}))


def on_the_way(step, data):
    """A press that shows the form again: another time (step 4's buttons) names the time."""
    return {step: data["slot"] if step == "choose_time" else ""}


@override_settings(BOOKING_MIN_FILL_SECONDS=5)
@pytest.mark.parametrize("step", ["show_times", "check_answers", "choose_time"])
def test_a_step_on_the_way_keeps_when_the_form_was_first_opened(client, step):
    opened = time.time()
    with mock.patch("booking.form_tokens.time.time", return_value=opened):
        _, data = filled_booking_form(client)
    # Long enough on the form, then a step that shows the page again, then sent at once.
    with mock.patch("booking.form_tokens.time.time", return_value=opened + 6):
        shown = client.post(BOOK_URL, data | on_the_way(step, data))
        again = resubmitted_values(page(shown))
        response = client.post(BOOK_URL, again | {"consent": "on"})

    assert again["form_token"] != data["form_token"]  # a new token, with the old start
    received_booking(response)


@override_settings(BOOKING_MIN_FILL_SECONDS=5)
@pytest.mark.parametrize("step", ["show_times", "check_answers", "choose_time"])
def test_a_form_sent_within_the_minimum_of_its_first_opening_is_still_refused(client, step):
    opened = time.time()
    with mock.patch("booking.form_tokens.time.time", return_value=opened):
        _, data = filled_booking_form(client)
    with mock.patch("booking.form_tokens.time.time", return_value=opened + 2):
        again = resubmitted_values(page(client.post(BOOK_URL, data | on_the_way(step, data))))
    with mock.patch("booking.form_tokens.time.time", return_value=opened + 4):
        response = client.post(BOOK_URL, again | {"consent": "on"})

    assert response.status_code == 200
    assert "That was quicker than we expected." in " ".join(error_summary(page(response)))
    assert not ConsultationBooking.objects.exists()


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
    document, data = filled_booking_form(client, FULL_ANSWERS_PAGE, **full_answers)
    chosen = parse_slot_value(data["slot"])
    take_time(chosen)  # Someone else books it first.

    response = client.post(BOOK_URL, data)

    shown_again = page(response)
    assert response.status_code == 200
    assert SLOT_TAKEN in error_summary(shown_again)
    assert data["slot"] not in offered_slots(shown_again)
    kept = resubmitted_values(shown_again)
    for name in ["full_name", "email", "phone", *full_answers]:
        assert kept[name] == data[name], name
    assert kept["form_token"] == data["form_token"]
    assert ConsultationBooking.objects.count() == Practitioner.objects.count()

    # Choosing another time then books with the same form.
    kept |= {"slot": offered_slots(shown_again)[0], "consent": "on"}
    received_booking(client.post(BOOK_URL, kept))
    assert ConsultationBooking.objects.filter(email=VISITOR["email"]).count() == 1


def test_time_taken_with_the_chosen_practitioner_is_refused_though_another_is_free(client):
    _, data = filled_booking_form(client, practitioner=ESTHETICIAN)
    make_booking(starts_at=parse_slot_value(data["slot"]), practitioner=practitioner(ESTHETICIAN))

    response = client.post(BOOK_URL, data)

    assert response.status_code == 200
    assert SLOT_TAKEN in error_summary(page(response))
    assert not ConsultationBooking.objects.filter(email=VISITOR["email"]).exists()

    # With any practitioner, the same time goes to the one still free.
    booking = received_booking(client.post(BOOK_URL, data | {"practitioner": ""}))
    assert booking.practitioner.slug == NURSE_PRACTITIONER


def test_time_taken_between_the_check_and_the_save_is_refused_by_the_database(client):
    """
    The other requests commit after this one has checked the time: only the
    database's no-overlap rule (PostgreSQL's exclusion constraint, SQLite's
    triggers) can refuse it now, for each practitioner who was free, and the
    visitor sees the same clear message rather than an error page.
    """
    _, data = filled_booking_form(client)
    real_find = ClinicCalendar.find

    def find_then_lose_the_race(calendar, starts_at):
        slot = real_find(calendar, starts_at)
        for person in slot.practitioners:
            make_booking(starts_at=slot.starts_at, practitioner=person)
        return slot

    with mock.patch.object(ClinicCalendar, "find", find_then_lose_the_race):
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
