"""
The booking emails: what each one says, the calendar files, and the outbox
that keeps a message when the mail server is down and sends it later.
"""

import smtplib
from datetime import timedelta
from io import StringIO
from unittest import mock

import icalendar
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import dateformat, timezone

from booking import services
from booking.availability import bookable_slots
from booking.emails import MAX_ATTEMPTS, calendar_uid, deliver, queue_email
from booking.models import ConsultationBooking, OutboundEmail
from tests.booking_helpers import (
    BOOK_URL,
    CLINIC_ZONE,
    VISITOR,
    Status,
    book,
    clinic_clock,
    filled_booking_form,
    page,
    set_rules,
)

pytestmark = pytest.mark.django_db

SEND_MESSAGES = "django.core.mail.backends.locmem.EmailBackend.send_messages"
CLINIC_EMAIL = "hello@clearview-clinic.example"


def sent_to(mailoutbox, address):
    return [message for message in mailoutbox if message.to == [address]]


def when(booking):
    local = timezone.localtime(booking.starts_at, CLINIC_ZONE)
    return f"{dateformat.format(local, 'l j F Y, g:i A')} ({local.tzname()}, clinic time)"


def calendar_of(message):
    """(the attached calendar, its event, its MIME part) of a sent message."""
    [(filename, content, mimetype)] = message.attachments
    assert filename.endswith(".ics")
    calendar = icalendar.Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    [part] = [
        part for part in message.message().walk() if part.get_content_type() == "text/calendar"
    ]
    return calendar, event, part


@pytest.fixture
def send_on_commit(django_capture_on_commit_callbacks):
    """Run the after-commit callbacks (the outbox's first delivery) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_booking_sends_a_receipt_and_a_clinic_alert_once_it_commits(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    _, data = filled_booking_form(client, message="Please call after 5pm.")

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(BOOK_URL, data)
    assert mailoutbox == []  # Nothing leaves before the booking is committed.
    for callback in callbacks:
        callback()

    booking = ConsultationBooking.objects.get()
    assert response.status_code == 302
    [receipt] = sent_to(mailoutbox, VISITOR["email"])
    [alert] = sent_to(mailoutbox, CLINIC_EMAIL)
    assert len(mailoutbox) == 2
    assert booking.reference in receipt.subject
    assert booking.reference in receipt.body
    assert when(booking) in receipt.body
    manage_url = "https://clinic.test" + booking.get_manage_url()
    assert manage_url in receipt.body
    assert client.get(booking.get_manage_url()).status_code == 200
    assert booking.reference in alert.subject
    assert VISITOR["full_name"] in alert.body
    assert "Please call after 5pm." in alert.body
    assert f"?q={booking.reference}" in alert.body
    assert manage_url not in alert.body
    assert set(OutboundEmail.objects.values_list("kind", "status")) == {
        (OutboundEmail.Kind.RECEIPT, OutboundEmail.Delivery.SENT),
        (OutboundEmail.Kind.CLINIC_ALERT, OutboundEmail.Delivery.SENT),
    }


def test_clinic_alert_goes_to_the_address_staff_set(send_on_commit, mailoutbox):
    set_rules(alert_email="frontdesk@clinic.test")

    with send_on_commit():
        book()

    assert len(sent_to(mailoutbox, "frontdesk@clinic.test")) == 1
    assert sent_to(mailoutbox, CLINIC_EMAIL) == []


def test_confirmation_carries_a_calendar_event_in_clinic_time(send_on_commit, mailoutbox):
    booking = book()

    with send_on_commit():
        booking = services.change_status(booking, Status.CONFIRMED)

    [confirmation] = [
        m for m in mailoutbox if m.subject.startswith("Your consultation is confirmed")
    ]
    calendar, event, part = calendar_of(confirmation)
    local_start = timezone.localtime(booking.starts_at, CLINIC_ZONE)
    assert confirmation.to == [booking.email]
    assert when(booking) in confirmation.body
    assert calendar["METHOD"] == "REQUEST"
    assert part.get_param("method") == "REQUEST"
    assert str(event["UID"]) == f"consultation-{booking.reference}@clinic.test"
    assert event["SEQUENCE"] == booking.calendar_sequence == 1
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert f"DTSTART;TZID=America/New_York:{local_start:%Y%m%dT%H%M%S}" in part.get_content()
    assert event.decoded("DTSTART") == booking.starts_at
    assert event.decoded("DTEND") == booking.ends_at
    assert [zone["TZID"] for zone in calendar.walk("VTIMEZONE")] == ["America/New_York"]


def test_cancellation_calendar_cancels_the_same_event_with_a_higher_sequence(
    send_on_commit, mailoutbox
):
    booking = book()
    with send_on_commit():
        booking = services.change_status(booking, Status.CONFIRMED)
        booking = services.change_status(booking, Status.CANCELLED, by_client=True)

    [confirmation] = [m for m in mailoutbox if "confirmed" in m.subject]
    [cancellation] = [m for m in mailoutbox if "cancelled" in m.subject]
    _, confirmed_event, _ = calendar_of(confirmation)
    calendar, event, part = calendar_of(cancellation)
    assert calendar["METHOD"] == "CANCEL"
    assert part.get_param("method") == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == confirmed_event["UID"] == calendar_uid(booking)
    assert event["SEQUENCE"] > confirmed_event["SEQUENCE"]
    assert booking.reference in cancellation.body


def test_moved_booking_sends_a_calendar_update_for_the_new_time(send_on_commit, mailoutbox):
    booking = book()
    with send_on_commit():
        booking = services.change_status(booking, Status.CONFIRMED)
        booking = services.move_booking(booking, bookable_slots()[3].starts_at)

    [confirmation] = [m for m in mailoutbox if "confirmed" in m.subject]
    [moved] = [m for m in mailoutbox if "moved" in m.subject]
    _, before, _ = calendar_of(confirmation)
    calendar, event, _ = calendar_of(moved)
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == before["UID"]
    assert event["SEQUENCE"] == before["SEQUENCE"] + 1
    assert event.decoded("DTSTART") == booking.starts_at != before.decoded("DTSTART")
    assert when(booking) in moved.body


def test_declined_request_gets_a_decline_notice_without_a_calendar(send_on_commit, mailoutbox):
    booking = book()

    with send_on_commit():
        services.change_status(booking, Status.DECLINED)

    [notice] = [
        m for m in mailoutbox if m.subject == f"About your consultation request {booking.reference}"
    ]
    assert notice.to == [booking.email]
    assert "we cannot hold the consultation you requested" in notice.body
    assert notice.attachments == []
    assert "/book/manage/" not in notice.body


@pytest.mark.parametrize("to_status", [Status.COMPLETED, Status.NO_SHOW])
def test_marking_a_consultation_completed_or_missed_sends_nothing(
    send_on_commit, mailoutbox, to_status
):
    booking = book()
    services.change_status(booking, Status.CONFIRMED)

    with send_on_commit():
        services.change_status(booking, to_status)

    assert mailoutbox == []


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPException("421 Service not available"),
    ],
    ids=type,
)
def test_mail_server_down_keeps_the_booking_and_its_emails_go_out_once_when_it_is_back(
    client, send_on_commit, mailoutbox, error
):
    _, data = filled_booking_form(client)

    with mock.patch(SEND_MESSAGES, side_effect=error), send_on_commit():
        response = client.post(BOOK_URL, data)

    booking = ConsultationBooking.objects.get()
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    assert mailoutbox == []
    waiting = OutboundEmail.objects.filter(booking=booking)
    assert waiting.count() == 2
    for message in waiting:
        assert message.status == OutboundEmail.Delivery.PENDING
        assert message.attempts == 1
        assert message.last_error.startswith(type(error).__name__)

    # The server is back; send_outbox runs every minute or so.
    with clinic_clock(timezone.now() + timedelta(minutes=10)):
        out = StringIO()
        for _ in range(3):
            call_command("send_outbox", stdout=out)

    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        [VISITOR["email"], CLINIC_EMAIL]
    )
    assert out.getvalue().startswith("2 email(s) sent")
    for message in waiting.all():
        assert message.status == OutboundEmail.Delivery.SENT
        assert message.attempts == 2
        assert message.last_error == ""
        assert message.sent_at is not None


def test_message_that_never_gets_through_is_given_up_after_the_last_attempt(mailoutbox):
    with mock.patch(SEND_MESSAGES, side_effect=ConnectionRefusedError):
        message = queue_email(book(), OutboundEmail.Kind.RECEIPT)
        now = timezone.now()
        for _ in range(MAX_ATTEMPTS + 3):
            now += timedelta(days=1)
            with clinic_clock(now):
                call_command("send_outbox", stdout=StringIO())

    message.refresh_from_db()
    assert message.status == OutboundEmail.Delivery.FAILED
    assert message.attempts == MAX_ATTEMPTS
    assert mailoutbox == []


def test_message_is_delivered_once_even_if_two_workers_pick_it_up(mailoutbox):
    message = queue_email(book(), OutboundEmail.Kind.RECEIPT)

    results = [deliver(message.pk), deliver(message.pk)]

    assert results == [True, None]
    assert len(mailoutbox) == 1


def test_outbox_in_the_admin_shows_each_messages_delivery_state(admin_client):
    booking = book()
    pending, sent = OutboundEmail.objects.filter(booking=booking).order_by("kind")
    OutboundEmail.objects.filter(pk=pending.pk).update(
        attempts=3, last_error="ConnectionRefusedError: [Errno 111] Connection refused"
    )
    deliver(sent.pk)

    changelist = page(admin_client.get(reverse("admin:booking_outboundemail_changelist")))
    change = admin_client.get(reverse("admin:booking_outboundemail_change", args=[pending.pk]))
    on_booking = admin_client.get(
        reverse("admin:booking_consultationbooking_change", args=[booking.pk])
    )

    rows = [
        [cell.text for cell in row.elements]
        for row in changelist.find("table", id="result_list").find("tbody").find_all("tr")
    ]
    # Columns: checkbox, created, kind, booking, status, attempts, sent.
    assert {row[2]: row[4:6] for row in rows} == {
        "New-booking alert to clinic": ["Waiting to send", "3"],
        "Receipt to client": ["Sent", "1"],
    }
    assert b"Connection refused" in change.content
    emails_inline = page(on_booking).find("div", id="emails-group").text
    assert "Waiting to send 3" in emails_inline
    assert "Connection refused" in emails_inline


def test_send_now_in_the_admin_retries_a_waiting_message(admin_client, mailoutbox):
    booking = book()
    waiting = OutboundEmail.objects.filter(booking=booking)
    OutboundEmail.objects.filter(booking=booking).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(hours=1)
    )

    response = admin_client.post(
        reverse("admin:booking_outboundemail_changelist"),
        {"action": "send_now", "_selected_action": [message.pk for message in waiting]},
        follow=True,
    )

    assert response.status_code == 200
    assert len(mailoutbox) == 2
    assert set(waiting.values_list("status", flat=True)) == {OutboundEmail.Delivery.SENT}
    assert b"2 of 2 email(s) sent." in response.content
