"""
The booking page's steps (booking/forms/steps.py, templates/booking/bookings/book.html):
each choice a link in the address, the strip of days, the day's times by
part of the day, the request form once a time is chosen, and the same steps
for htmx without the page around them.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import Closure, ConsultationBooking
from booking.services.schedule import ClinicCalendar, parse_slot_value
from tests.support.booking import (
    ASSESSMENT,
    BOOK_URL,
    ESTHETICIAN,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    PROFESSIONAL_CONSULTATION,
    VISITOR,
    booking_form,
    clinic_time,
    consultation_type,
    error_summary,
    filled_booking_form,
    make_booking,
    offered_slots,
    page,
    practitioner,
    received_booking,
    request_form_page,
    resubmitted_values,
    set_hours,
    time_links,
)
from tests.support.html import form_data

pytestmark = pytest.mark.django_db


def query(href):
    return {name: values[0] for name, values in parse_qs(urlsplit(href).query).items()}


def card_links(document, step):
    section = document.find(id=f"step-{step}").parent
    return {
        card.find(class_="booking-card-title").text: card.attrs["href"]
        for card in section.find_all("a", class_="booking-card")
    }


def test_each_choice_is_a_link_that_keeps_the_choices_before_it(client):
    document = page(client.get(BOOK_URL, {"practitioner": ESTHETICIAN}))

    types = card_links(document, "consultation")
    # She gives the professional facial's consultation: kept; not the medical one: dropped.
    assert query(types["Professional facial consultation"]) == {
        "type": PROFESSIONAL_CONSULTATION,
        "practitioner": ESTHETICIAN,
    }
    assert query(types["Medical-grade facial consultation"]) == {"type": MEDICAL_CONSULTATION}
    assert types["Skin assessment"].endswith("#step-practitioner")
    people = card_links(document, "practitioner")
    assert query(people["Anyone"]) == {"type": ASSESSMENT}
    assert query(people["Daniel Okafor"]) == {
        "type": ASSESSMENT,
        "practitioner": NURSE_PRACTITIONER,
    }
    day = document.find("a", class_="day-strip-day").attrs["href"]
    assert day.endswith("#step-time")
    assert set(query(day)) == {"type", "practitioner", "day"}
    time = time_links(document)[0]
    assert time.endswith("#step-details")
    assert set(query(time)) == {"type", "practitioner", "day", "time"}


def test_only_who_gives_the_consultation_is_offered_in_step_two(client):
    document = page(client.get(BOOK_URL, {"type": MEDICAL_CONSULTATION}))

    assert list(card_links(document, "practitioner")) == ["Anyone", "Daniel Okafor"]


def test_a_closed_day_is_in_the_strip_but_not_a_link(client):
    first = page(client.get(BOOK_URL))
    first_day = query(first.find("a", class_="day-strip-day").attrs["href"])["day"]
    Closure.objects.create(starts_on=first_day, ends_on=first_day, reason="Training")

    document = page(client.get(BOOK_URL))

    full = document.find(class_="day-strip-full")
    assert full.tag == "span"
    assert full.find(class_="day-strip-free").text == "Full"
    links = [
        query(link.attrs["href"])["day"] for link in document.find_all("a", class_="day-strip-day")
    ]
    assert first_day not in links
    # The first day that has times is the one shown.
    [chosen] = [
        link
        for link in document.find_all("a", class_="day-strip-day")
        if link.attrs.get("aria-current") == "date"
    ]
    assert query(chosen.attrs["href"])["day"] > first_day


def test_a_days_times_are_grouped_into_morning_afternoon_and_evening(client):
    set_hours({day: [("08:00", "20:00")] for day in range(7)})

    document = page(client.get(BOOK_URL))

    section = document.find(id="step-time").parent
    groups = {
        heading.text: [link.text for link in heading.find_next("ul").find_all("a")]
        for heading in section.find_all("h3")
    }
    assert list(groups) == ["Morning", "Afternoon", "Evening"]
    assert all(label.split(":")[0] in {"8", "9", "10", "11"} for label in groups["Morning"])
    assert groups["Afternoon"][0].startswith("12:00 PM")
    assert groups["Evening"][0].startswith("5:00 PM")


def test_the_strip_shows_each_clinic_days_free_times(client):
    calendar = ClinicCalendar(consultation_type(ASSESSMENT), practitioner=practitioner())
    counts = {day.isoformat(): len(slots) for day, slots in calendar.fortnight().days}

    document = page(client.get(BOOK_URL, {"practitioner": ESTHETICIAN}))

    shown = {
        query(link.attrs["href"])["day"]: link.find(class_="day-strip-free").text
        for link in document.find_all("a", class_="day-strip-day")
    }
    assert shown == {day: f"{count} free" for day, count in counts.items() if count}


def test_a_time_no_longer_free_is_explained_and_no_form_is_shown(client):
    time = time_links(page(client.get(BOOK_URL, {"practitioner": ESTHETICIAN})))[0]
    make_booking(starts_at=parse_slot_value(query(time)["time"]), practitioner=practitioner())

    document = page(client.get(time.split("#")[0]))

    assert "That time is no longer available" in document.find(id="step-time").parent.text
    assert document.find("input", name="form_token") is None


def test_the_request_form_sums_up_the_choice_and_sends_it_as_hidden_fields(client):
    document = request_form_page(client, f"{BOOK_URL}?type={MEDICAL_CONSULTATION}")
    data = form_data(booking_form(document))

    choice = document.find("dl", class_="booking-choice").text
    assert "Medical-grade facial consultation (45 minutes" in choice
    assert "Anyone who is free" in choice
    assert "(EST, clinic time)" in choice or "(EDT, clinic time)" in choice
    assert data["consultation_type"] == MEDICAL_CONSULTATION
    assert data["practitioner"] == ""
    assert parse_slot_value(data["slot"]) > timezone.now()


def test_another_time_after_an_error_keeps_everything_typed(client):
    _, data = filled_booking_form(client, message="Mornings suit me best.", full_name="")
    refused = page(client.post(BOOK_URL, data))
    assert "Enter your full name." in error_summary(refused)
    # The day's times are now buttons of the form: choosing one keeps what was typed.
    buttons = [
        button for button in refused.find_all("button") if button.attrs.get("name") == "choose_time"
    ]
    assert [button.attrs["value"] for button in buttons] == offered_slots(refused)
    later = buttons[-1].attrs["value"]

    shown = page(client.post(BOOK_URL, resubmitted_values(refused) | {"choose_time": later}))
    kept = resubmitted_values(shown)

    assert error_summary(shown) == []
    assert kept["slot"] == later
    assert kept["email"] == VISITOR["email"]
    assert kept["message"] == "Mornings suit me best."
    response = client.post(BOOK_URL, kept | {"full_name": "Ada Quinterra", "consent": "on"})
    assert received_booking(response).starts_at == parse_slot_value(later)


def test_the_waitlist_link_carries_the_consultation_and_practitioner(client):
    document = page(
        client.get(BOOK_URL, {"type": PROFESSIONAL_CONSULTATION, "practitioner": ESTHETICIAN})
    )

    link = document.find("p", class_="waitlist-link").find("a").attrs["href"]
    assert query(link) == {"type": PROFESSIONAL_CONSULTATION, "practitioner": ESTHETICIAN}


def test_htmx_gets_the_steps_alone_and_a_history_restore_the_whole_page(client):
    steps = client.get(BOOK_URL, {"type": MEDICAL_CONSULTATION}, headers={"HX-Request": "true"})
    restore = client.get(
        BOOK_URL,
        {"type": MEDICAL_CONSULTATION},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert steps.status_code == 200
    assert steps.content.lstrip().startswith(b'<div id="booking-steps"')
    assert b"<html" not in steps.content and b"<h1>" not in steps.content
    assert b"Medical-grade facial consultation" in steps.content
    assert b"<html" in restore.content


@pytest.mark.every_database
def test_each_step_costs_the_same_queries_however_busy_the_fortnight(client, settings):
    settings.AVAILABILITY_CACHE_SECONDS = 0  # every request rendered
    steps = f"{BOOK_URL}?type={ASSESSMENT}&practitioner={ESTHETICIAN}"
    request_form = time_links(page(client.get(steps)))[0].split("#")[0]

    def costs():
        counts = []
        for path in (steps, request_form):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            counts.append(len(queries))
        return counts

    quiet = costs()
    # Bookings on every day of the strip but the first (the request form's time stays free).
    first = timezone.localdate() + timedelta(days=2)
    for n in range(20):
        day = first + timedelta(days=n % 12)
        hour = 9 + 2 * (n // 12)  # two a day at most, hours apart
        make_booking(
            starts_at=clinic_time(day.year, day.month, day.day, hour), practitioner=practitioner()
        )
    assert ConsultationBooking.objects.count() == 20

    assert costs() == quiet


def test_step_two_shows_each_practitioners_portrait_at_the_cards_size(client):
    document = page(client.get(BOOK_URL, {"type": ASSESSMENT}))

    section = document.find(id="step-practitioner").parent
    cards = {
        card.find(class_="booking-card-title").text: card
        for card in section.find_all("a", class_="booking-card")
    }
    portrait = cards["Daniel Okafor"].find("img", class_="booking-card-portrait")
    # The seed's portrait, as a responsive picture that keeps the layout still.
    assert portrait is not None
    assert portrait.attrs["sizes"] == "4rem"
    assert portrait.attrs["width"] and portrait.attrs["height"]
    assert portrait.attrs["alt"]
    assert cards["Anyone"].find("img") is None
