"""
Every clinic time shown carries its zone, including in the hour that happens
twice when the clocks go back (America/New_York, the first Sunday of
November: 1:30 AM EDT, then an hour later 1:30 AM EST). Django's `date`
filter leaves "T" empty for such a wall time, which showed
"1:30 AM (, clinic time)"; the calendar file must also name the right one
of the two instants.
"""

import csv
import io
from datetime import UTC

import icalendar
import pytest
from django.http import HttpResponse
from django.urls import reverse

from booking import services
from booking.models import OutboundEmail
from booking.services import emails
from booking.services.waitlist import WAITLIST_KINDS
from booking.views.bookings import receipts_cookie_name, remember_receipts
from tests.support.booking import (
    Status,
    clinic_clock,
    clinic_time,
    main_text,
    make_booking,
    page,
    utc,
)
from tests.support.mailbox import written

pytestmark = pytest.mark.django_db

Kind = OutboundEmail.Kind

# The night of 3 November 2030: 1:30 AM happens at 05:30 UTC (EDT), then at
# 06:30 UTC (EST). Either way the clinic's clock reads 1:30 AM.
FIRST_ONE_THIRTY = utc(2030, 11, 3, 5, 30)
SECOND_ONE_THIRTY = utc(2030, 11, 3, 6, 30)
REPEATED_HOUR = [
    pytest.param(FIRST_ONE_THIRTY, "EDT", id="first 1:30 (EDT)"),
    pytest.param(SECOND_ONE_THIRTY, "EST", id="second 1:30 (EST)"),
]
BEFORE = clinic_time(2030, 10, 20, 9, 0)


@pytest.fixture(autouse=True)
def clock():
    with clinic_clock(BEFORE) as now:
        yield now


@pytest.mark.parametrize(("starts_at", "zone"), REPEATED_HOUR)
def test_manage_and_received_pages_show_the_zone_of_a_time_in_the_repeated_hour(
    client, starts_at, zone
):
    booking = make_booking(starts_at=starts_at)
    granted = HttpResponse()
    remember_receipts(granted, [booking.reference])
    client.cookies[receipts_cookie_name()] = granted.cookies[receipts_cookie_name()].value

    for url in [booking.get_manage_url(), reverse("booking:received", args=[booking.reference])]:
        text = main_text(page(client.get(url)))
        assert f"Sunday 3 November 2030, 1:30 AM ({zone}, clinic time)" in text, url
        assert "(, clinic time)" not in text


SUBJECTS_WITH_THE_TIME = {Kind.CLINIC_ALERT, Kind.CONFIRMATION, Kind.RESCHEDULED, Kind.REMINDER}


@pytest.mark.parametrize(("starts_at", "zone"), REPEATED_HOUR)
# The waitlist's emails are about an offer, not a booking: tests/booking/waitlist/test_waitlist.py
# checks them. The erasure request's names no consultation time (tests/booking/my_visits).
@pytest.mark.parametrize(
    "kind", sorted(set(Kind.values) - set(WAITLIST_KINDS) - {Kind.ERASURE_REQUESTED})
)
def test_every_email_shows_the_zone_of_a_time_in_the_repeated_hour(kind, starts_at, zone):
    booking = make_booking(starts_at=starts_at, status=Status.CONFIRMED)

    message = written(emails.queue_email(booking, kind))

    assert f"Sunday 3 November 2030, 1:30 AM ({zone}, clinic time)" in message.body
    if kind in SUBJECTS_WITH_THE_TIME:
        assert f"1:30 AM {zone}" in message.subject, message.subject


@pytest.mark.parametrize(("starts_at", "zone"), REPEATED_HOUR)
@pytest.mark.parametrize("kind", [Kind.CONFIRMATION, Kind.RESCHEDULED, Kind.CANCELLATION])
def test_calendar_file_names_the_right_instant_in_the_repeated_hour(kind, starts_at, zone):
    booking = make_booking(starts_at=starts_at, status=Status.CONFIRMED)

    message = written(emails.queue_email(booking, kind))

    [event] = icalendar.Calendar.from_ical(message.calendar).walk("VEVENT")
    # Compared in UTC: Python never finds a wall time in the repeated hour
    # equal to an instant in another zone (PEP 495).
    assert event.decoded("DTSTART").astimezone(UTC) == booking.starts_at
    assert event.decoded("DTEND").astimezone(UTC) == booking.ends_at


def test_calendar_file_keeps_the_clinic_zone_for_an_unambiguous_time():
    booking = make_booking(starts_at=clinic_time(2030, 11, 4, 9, 30), status=Status.CONFIRMED)

    message = written(emails.queue_email(booking, Kind.CONFIRMATION))

    assert "DTSTART;TZID=America/New_York:20301104T093000" in message.calendar


@pytest.mark.parametrize(("starts_at", "zone"), REPEATED_HOUR)
def test_admin_list_change_page_and_export_show_the_zone_of_a_time_in_the_repeated_hour(
    admin_client, starts_at, zone
):
    booking = make_booking(starts_at=starts_at)
    changelist = reverse("admin:booking_consultationbooking_changelist")

    listed = page(admin_client.get(changelist)).find("tbody").text
    change = (
        page(
            admin_client.get(reverse("admin:booking_consultationbooking_change", args=[booking.pk]))
        )
        .find(id="content")
        .text
    )
    export = admin_client.post(
        changelist, {"action": "export_csv", "_selected_action": [booking.pk]}
    )
    [row] = csv.DictReader(io.StringIO(export.content.decode()))

    assert f"Sun 03 Nov 2030, 01:30 {zone}" in listed
    assert f"Sun 03 Nov 2030, 01:30 {zone}" in change
    assert row["consultation (clinic time)"] == f"2030-11-03 01:30 {zone}"


def test_slot_picker_labels_show_each_times_zone(client):
    # No notice and a window open across the night the clocks go back.
    from tests.support.booking import ASSESSMENT, set_hours, set_rules, set_type

    set_rules(minimum_notice_hours=0)
    set_hours({6: [("00:00", "03:00")]})
    set_type(ASSESSMENT, grid_minutes=30)

    document = page(client.get("/book/", {"day": "2030-11-03"}))

    labels = [link.text for link in document.find_all("a", class_="time-list-time")]
    # 1:00–1:59 AM happens twice that night: both hours are offered, each
    # with its zone (the form's values are UTC, so each names its instant).
    assert labels[:8] == [
        "12:00 AM EDT",
        "12:30 AM EDT",
        "1:00 AM EDT",
        "1:30 AM EDT",
        "1:00 AM EST",
        "1:30 AM EST",
        "2:00 AM EST",
        "2:30 AM EST",
    ]


def test_history_note_of_a_move_names_the_zone_of_the_old_time():
    booking = make_booking(starts_at=SECOND_ONE_THIRTY)

    services.move_booking(booking, clinic_time(2030, 11, 4, 9, 0))

    note = booking.status_changes.latest("changed_at").note
    assert note == "Moved from 2030-11-03 01:30 EST"
