"""
The booking emails: what each one says, the calendar files, and the outbox
that keeps a message when the mail server is down and sends it later.
"""

import re
import smtplib
import threading
import time
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace
from unittest import mock

import icalendar
import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import connection as db_connection
from django.db import transaction
from django.db.backends.signals import connection_created
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import dateformat, timezone
from django_tasks_db.models import DBTaskResult

from booking import services
from booking.models import ConsultationBooking, OutboundEmail
from booking.services import emails
from booking.services.email_content import calendar_uid
from booking.services.emails import MAX_ATTEMPTS, DeliveryResult, deliver, queue_email
from booking.services.schedule import bookable_slots
from booking.signed_links import reference_from_token
from tests.support.booking import (
    BOOK_URL,
    CLINIC_ZONE,
    MEDICAL_CONSULTATION,
    NURSE_PRACTITIONER,
    VISITOR,
    Status,
    book,
    clinic_clock,
    consultation_type,
    ensure_bookable,
    filled_booking_form,
    make_booking,
    move_into_the_past,
    only_practitioners,
    page,
    practitioner,
    set_rules,
)

pytestmark = pytest.mark.django_db

SEND_MESSAGES = "django.core.mail.backends.locmem.EmailBackend.send_messages"
PENDING = OutboundEmail.Delivery.PENDING
SENT = OutboundEmail.Delivery.SENT
SUPERSEDED = OutboundEmail.Delivery.SUPERSEDED
CLINIC_EMAIL = "hello@clearview-clinic.example"
CLINIC_NAME = "Clearview Skin Clinic"
FROM_EMAIL = "bookings@clearview-clinic.example"


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
    assert "Consultation: Skin assessment (30 minutes)" in receipt.body
    assert "With: Maya Chen, Licensed esthetician" in receipt.body
    # The link is signed with a timestamp, so it is read back, not rebuilt.
    [manage_url] = re.findall(r"https://clinic\.test/book/manage/[^/\s]+/", receipt.body)
    assert reference_from_token(manage_url.rstrip("/").rsplit("/", 1)[1]) == booking.reference
    assert client.get(manage_url.removeprefix("https://clinic.test")).status_code == 200
    # The client's replies reach the clinic; the clinic's replies to its alert reach the client.
    assert receipt.reply_to == [CLINIC_EMAIL]
    assert alert.reply_to == [VISITOR["email"]]
    assert booking.reference in alert.subject
    assert VISITOR["full_name"] in alert.body
    assert "Please call after 5pm." in alert.body
    assert "Consultation: Skin assessment (30 minutes)" in alert.body
    assert "With: Maya Chen, Licensed esthetician" in alert.body
    assert f"?q={booking.reference}" in alert.body
    assert "/book/manage/" not in alert.body
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
    assert str(event["SUMMARY"]) == f"Skin assessment with Maya Chen at {CLINIC_NAME}"
    assert [zone["TZID"] for zone in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    # Calendar apps ignore an invitation that does not name its invitee.
    assert str(event["ATTENDEE"]) == f"mailto:{booking.email}"
    assert event["ATTENDEE"].params["CN"] == booking.full_name
    assert str(event["ORGANIZER"]) == f"mailto:{FROM_EMAIL}"
    assert event["ORGANIZER"].params["CN"] == CLINIC_NAME
    assert confirmation.reply_to == [CLINIC_EMAIL]


def test_emails_and_calendar_name_the_consultation_type_and_practitioner_booked(
    send_on_commit, mailoutbox
):
    daniel = practitioner(NURSE_PRACTITIONER)
    booking = book(consultation_type=consultation_type(MEDICAL_CONSULTATION), practitioner=daniel)

    with send_on_commit():
        booking = services.change_status(booking, Status.CONFIRMED)

    [confirmation] = [m for m in mailoutbox if "confirmed" in m.subject]
    _, event, _ = calendar_of(confirmation)
    assert "Consultation: Medical-grade facial consultation (45 minutes)" in confirmation.body
    assert "With: Daniel Okafor, Nurse practitioner, NP-C" in confirmation.body
    assert str(event["SUMMARY"]) == (
        f"Medical-grade facial consultation with Daniel Okafor at {CLINIC_NAME}"
    )
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=45)


def test_cancellation_calendar_cancels_the_same_event_with_a_higher_sequence(
    send_on_commit, mailoutbox
):
    booking = book()
    with send_on_commit():
        booking = services.change_status(booking, Status.CONFIRMED)
    with send_on_commit():
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
    assert str(event["ATTENDEE"]) == f"mailto:{booking.email}"
    assert booking.reference in cancellation.body
    # A message already sent stays on record as sent.
    assert booking.emails.get(kind=OutboundEmail.Kind.CONFIRMATION).status == SENT


def test_moved_booking_sends_a_calendar_update_for_the_new_time(send_on_commit, mailoutbox):
    booking = book()
    with send_on_commit():
        booking = services.change_status(booking, Status.CONFIRMED)
    later = [
        slot.starts_at
        for slot in bookable_slots(booking.consultation_type)
        if slot.starts_at > booking.starts_at
    ]
    with send_on_commit():
        booking = services.move_booking(booking, later[3]).booking

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
    move_into_the_past(booking)

    with send_on_commit():
        services.change_status(booking, to_status)

    booking.refresh_from_db()
    assert booking.status == to_status
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


# Stored before the booking form refused such addresses: no mail server
# would ever take them, so retrying could only keep the message waiting.
UNUSABLE_ADDRESSES = ['"\x0b"@example.com', '"\x1b[31mred"@example.com', '""@example.com']


@pytest.mark.parametrize("address", UNUSABLE_ADDRESSES)
def test_message_to_an_address_no_server_would_take_is_given_up_at_once(address, mailoutbox):
    booking = make_booking(
        starts_at=bookable_slots(consultation_type())[0].starts_at, email=address
    )

    message = queue_email(booking, OutboundEmail.Kind.RECEIPT)
    result = deliver(message.pk)

    message.refresh_from_db()
    assert result == DeliveryResult.FAILED
    assert message.status == OutboundEmail.Delivery.FAILED
    assert message.attempts == 1
    assert message.last_error.startswith("Undeliverable address")
    assert mailoutbox == []
    assert emails.deliver_due(timezone.now() + timedelta(days=30)) == (0, 0)


@pytest.mark.parametrize("address", UNUSABLE_ADDRESSES)
def test_clinic_alert_for_a_client_address_no_server_would_take_goes_without_reply_to(
    address, mailoutbox
):
    booking = make_booking(
        starts_at=bookable_slots(consultation_type())[0].starts_at, email=address
    )

    message = queue_email(booking, OutboundEmail.Kind.CLINIC_ALERT)

    assert deliver(message.pk) == DeliveryResult.SENT
    [alert] = mailoutbox
    assert alert.to == [CLINIC_EMAIL]
    assert alert.reply_to == []
    assert "\x1b" not in alert.message().as_string()


@pytest.mark.parametrize(
    ("code", "status", "attempts"),
    [
        (550, OutboundEmail.Delivery.FAILED, 1),  # no such mailbox: permanent
        (450, OutboundEmail.Delivery.PENDING, 1),  # mailbox busy: try again later
    ],
)
def test_recipient_refused_by_the_mail_server_is_given_up_only_when_the_refusal_is_permanent(
    code, status, attempts, mailoutbox
):
    booking = book()
    message = queue_email(booking, OutboundEmail.Kind.RECEIPT)
    refused = smtplib.SMTPRecipientsRefused({booking.email: (code, b"Mailbox unavailable")})

    with mock.patch(SEND_MESSAGES, side_effect=refused):
        assert deliver(message.pk) == DeliveryResult.FAILED

    message.refresh_from_db()
    assert (message.status, message.attempts) == (status, attempts)
    assert "SMTPRecipientsRefused" in message.last_error


@pytest.mark.every_database
def test_message_is_delivered_once_even_if_two_workers_pick_it_up(mailoutbox):
    message = queue_email(book(), OutboundEmail.Kind.RECEIPT)

    results = [deliver(message.pk), deliver(message.pk)]

    assert results == [DeliveryResult.SENT, DeliveryResult.NOT_DUE]
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


def test_send_now_in_the_admin_retries_a_waiting_message(admin_client, send_on_commit, mailoutbox):
    booking = book()
    waiting = OutboundEmail.objects.filter(booking=booking)
    OutboundEmail.objects.filter(booking=booking).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(hours=1)
    )

    with send_on_commit():
        response = admin_client.post(
            reverse("admin:booking_outboundemail_changelist"),
            {"action": "send_now", "_selected_action": [message.pk for message in waiting]},
            follow=True,
        )

    assert response.status_code == 200
    assert len(mailoutbox) == 2
    assert set(waiting.values_list("status", flat=True)) == {OutboundEmail.Delivery.SENT}
    assert b"2 of 2 email(s) queued to send now" in response.content


# Only the newest word on a booking's state is worth sending: after an
# outage, a stale confirmation must not follow the cancellation.

STATE_KINDS = [
    OutboundEmail.Kind.CONFIRMATION,
    OutboundEmail.Kind.RESCHEDULED,
    OutboundEmail.Kind.CANCELLATION,
    OutboundEmail.Kind.DECLINE,
    OutboundEmail.Kind.REMINDER,
]


def status_of(message):
    message.refresh_from_db()
    return message.status


def sent_messages(mailoutbox):
    return [(message.to[0], message.subject) for message in mailoutbox]


def as_sent(*messages):
    # The subject as the worker wrote it when it sent the message.
    for message in messages:
        message.refresh_from_db()
    return [(message.to, message.subject) for message in messages]


def test_cancelling_while_the_confirmation_waits_sends_only_the_cancellation(
    send_on_commit, mailoutbox
):
    booking = book()
    receipt, alert = (booking.emails.get(kind=kind) for kind in ("receipt", "clinic_alert"))
    # The mail server is down when the clinic confirms; the confirmation waits.
    with mock.patch(SEND_MESSAGES, side_effect=ConnectionRefusedError), send_on_commit():
        services.change_status(booking, Status.CONFIRMED)
    confirmation = booking.emails.get(kind=OutboundEmail.Kind.CONFIRMATION)
    assert status_of(confirmation) == PENDING

    with send_on_commit():
        services.change_status(booking, Status.CANCELLED, by_client=True)

    cancellation = booking.emails.get(kind=OutboundEmail.Kind.CANCELLATION)
    # The clinic hears of every client change; that alert is no word on the state.
    change_alert = booking.emails.get(kind=OutboundEmail.Kind.CLIENT_CHANGE)
    assert status_of(confirmation) == SUPERSEDED
    assert status_of(cancellation) == SENT
    assert sorted(sent_messages(mailoutbox)) == sorted(as_sent(cancellation, change_alert))
    # The receipt and the clinic's alert are not words on the state: they still go out.
    assert (status_of(receipt), status_of(alert)) == (PENDING, PENDING)

    # The outbox runs later: it sends what waits, never the superseded confirmation.
    with clinic_clock(timezone.now() + timedelta(minutes=10)):
        call_command("send_outbox", stdout=StringIO())

    assert sorted(sent_messages(mailoutbox)) == sorted(
        as_sent(cancellation, change_alert, receipt, alert)
    )
    assert status_of(confirmation) == SUPERSEDED
    assert deliver(confirmation.pk) == DeliveryResult.NOT_DUE
    assert len(mailoutbox) == 4


@pytest.mark.parametrize("newer", STATE_KINDS)
@pytest.mark.parametrize("older", STATE_KINDS)
def test_any_new_state_message_supersedes_one_still_waiting_for_the_same_booking(older, newer):
    booking = book()
    waiting = queue_email(booking, older)
    someone_elses = queue_email(book(), older)

    newest = queue_email(booking, newer)

    assert status_of(waiting) == SUPERSEDED
    assert status_of(newest) == PENDING
    assert status_of(someone_elses) == PENDING
    assert set(
        booking.emails.filter(kind__in=["receipt", "clinic_alert"]).values_list("status", flat=True)
    ) == {PENDING}


@pytest.mark.parametrize("status", [SENT, OutboundEmail.Delivery.FAILED])
def test_a_message_no_longer_waiting_is_not_marked_superseded(status):
    booking = book()
    earlier = queue_email(booking, OutboundEmail.Kind.CONFIRMATION)
    OutboundEmail.objects.filter(pk=earlier.pk).update(status=status)

    queue_email(booking, OutboundEmail.Kind.CANCELLATION)

    assert status_of(earlier) == status


@pytest.mark.parametrize("kind", [OutboundEmail.Kind.RECEIPT, OutboundEmail.Kind.CLINIC_ALERT])
def test_receipt_and_clinic_alert_do_not_supersede_a_waiting_state_message(kind):
    booking = book()
    confirmation = queue_email(booking, OutboundEmail.Kind.CONFIRMATION)

    queue_email(booking, kind)

    assert status_of(confirmation) == PENDING


def test_message_superseded_while_the_mail_server_refuses_it_stays_superseded(mailoutbox):
    booking = book()
    confirmation = queue_email(booking, OutboundEmail.Kind.CONFIRMATION)

    def client_cancels_then_the_server_refuses(messages):
        # The mail server is slow to refuse; meanwhile the client cancels.
        services.change_status(booking, Status.CANCELLED, by_client=True)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    with mock.patch(SEND_MESSAGES, side_effect=client_cancels_then_the_server_refuses):
        assert deliver(confirmation.pk) == DeliveryResult.FAILED

    with clinic_clock(timezone.now() + timedelta(minutes=10)):
        call_command("send_outbox", stdout=StringIO())

    assert status_of(confirmation) == SUPERSEDED
    assert confirmation.subject not in [message.subject for message in mailoutbox]


def test_send_now_in_the_admin_does_not_send_a_superseded_message(
    admin_client, send_on_commit, mailoutbox
):
    booking = book()
    confirmation = queue_email(booking, OutboundEmail.Kind.CONFIRMATION)
    services.change_status(booking, Status.CANCELLED)
    assert status_of(confirmation) == SUPERSEDED

    with send_on_commit():
        response = admin_client.post(
            reverse("admin:booking_outboundemail_changelist"),
            {"action": "send_now", "_selected_action": [confirmation.pk]},
            follow=True,
        )

    assert b"0 of 1 email(s) queued to send now" in response.content
    assert status_of(confirmation) == SUPERSEDED
    assert mailoutbox == []


@pytest.mark.every_database
def test_send_outbox_after_an_outage_sends_the_waiting_messages_oldest_first(
    django_capture_on_commit_callbacks, mailoutbox
):
    start = timezone.now()
    with (
        mock.patch(SEND_MESSAGES, side_effect=ConnectionRefusedError),
        clinic_clock(start) as clock,
    ):
        with django_capture_on_commit_callbacks(execute=True):
            first = book()
        clock.return_value = start + timedelta(minutes=1)
        with django_capture_on_commit_callbacks(execute=True):
            second = book()
        clock.return_value = start + timedelta(minutes=2)
        with django_capture_on_commit_callbacks(execute=True):
            services.change_status(first, Status.CONFIRMED)
        clock.return_value = start + timedelta(minutes=3)
        with django_capture_on_commit_callbacks(execute=True):
            services.change_status(second, Status.CANCELLED)
    written = [
        first.emails.get(kind="receipt"),
        first.emails.get(kind="clinic_alert"),
        second.emails.get(kind="receipt"),
        second.emails.get(kind="clinic_alert"),
        first.emails.get(kind="confirmation"),
        second.emails.get(kind="cancellation"),
    ]
    assert {status_of(message) for message in written} == {PENDING}

    with clinic_clock(start + timedelta(minutes=30)):
        call_command("send_outbox", stdout=StringIO())

    assert sent_messages(mailoutbox) == as_sent(*written)


def test_state_message_that_failed_while_a_newer_one_was_written_is_superseded_not_sent(
    mailoutbox,
):
    booking = book()
    confirmation = queue_email(booking, OutboundEmail.Kind.CONFIRMATION)
    cancellation = queue_email(booking, OutboundEmail.Kind.CANCELLATION)
    # A worker held the confirmation (and failed to send it) while the
    # cancellation was written, so the cancellation could not mark it.
    OutboundEmail.objects.filter(pk=confirmation.pk).update(status=PENDING, attempts=1)

    with clinic_clock(timezone.now() + timedelta(minutes=10)):
        call_command("send_outbox", stdout=StringIO())

    assert status_of(confirmation) == SUPERSEDED
    assert status_of(cancellation) == SENT
    assert confirmation.subject not in [message.subject for message in mailoutbox]


# Delivery through the task worker. Production runs django-tasks-db's
# database backend: the request that books writes two task rows, with its own
# database connection, once the booking commits, and `db_worker`, a process
# of its own, sends. (The rest of this module runs each task at once, in the
# test's thread: the test settings' ImmediateBackend.)


def test_booking_only_enqueues_its_emails_and_the_task_worker_sends_them(
    client, database_tasks, run_worker, django_capture_on_commit_callbacks, mailoutbox
):
    _, data = filled_booking_form(client)
    opened = []
    threads_before = set(threading.enumerate())

    def count(sender, connection, **kwargs):
        opened.append(connection.alias)

    connection_created.connect(count)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(BOOK_URL, data)
    finally:
        connection_created.disconnect(count)

    assert response.status_code == 302
    booking = ConsultationBooking.objects.get()
    # The request sent nothing, started no thread and opened no connection:
    # it wrote one task for its messages, in the booking's transaction.
    assert mailoutbox == []
    assert set(threading.enumerate()) == threads_before
    assert opened == []
    tasks = DBTaskResult.objects.order_by("enqueued_at")
    assert [(task.task_path, task.status) for task in tasks] == [
        ("booking.services.emails.send_emails", TaskResultStatus.READY)
    ]
    assert sorted(tasks.get().args_kwargs["args"][0]) == sorted(
        booking.emails.values_list("pk", flat=True)
    )

    run_worker()

    assert sorted(message.to[0] for message in mailoutbox) == sorted([booking.email, CLINIC_EMAIL])
    assert set(booking.emails.values_list("status", flat=True)) == {SENT}
    assert [(task.status, task.return_value) for task in tasks.all()] == [
        (TaskResultStatus.SUCCESSFUL, ["sent", "sent"])
    ]


def test_the_task_row_is_written_with_the_outbox_rows_and_rolls_back_with_them(
    database_tasks, django_capture_on_commit_callbacks
):
    booking = book()
    tasks_before = DBTaskResult.objects.count()

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        message = queue_email(booking, OutboundEmail.Kind.CONFIRMATION)
        # In the change's own transaction: committed with it, never before it.
        assert DBTaskResult.objects.count() == tasks_before + 1
        written = DBTaskResult.objects.order_by("enqueued_at").last()
        assert written.args_kwargs["args"] == [[message.pk]]
        raise RuntimeError("the change fails after queueing its email")

    assert callbacks == []  # Nothing left to enqueue after a commit.
    assert DBTaskResult.objects.count() == tasks_before
    assert not OutboundEmail.objects.filter(pk=message.pk).exists()


def test_booking_stands_when_its_emails_cannot_be_enqueued_and_send_outbox_sends_them(
    client, send_on_commit, mailoutbox, caplog
):
    _, data = filled_booking_form(client)
    broken = SimpleNamespace(enqueue=mock.Mock(side_effect=RuntimeError("task table gone")))

    with mock.patch.object(emails, "send_emails", broken), send_on_commit():
        response = client.post(BOOK_URL, data)

    booking = ConsultationBooking.objects.get()
    assert response.status_code == 302
    assert broken.enqueue.call_count == 1
    assert [record.exc_info[0] for record in caplog.records if record.exc_info] == [RuntimeError]
    assert mailoutbox == []
    assert set(booking.emails.values_list("status", flat=True)) == {PENDING}

    call_command("send_outbox", stdout=StringIO())

    assert len(mailoutbox) == 2
    assert set(booking.emails.values_list("status", flat=True)) == {SENT}


@pytest.mark.every_database
def test_delivery_that_dies_mid_send_holds_no_claim_and_the_message_is_due_at_once(mailoutbox):
    message = queue_email(book(), OutboundEmail.Kind.RECEIPT)
    due_at = OutboundEmail.objects.get(pk=message.pk).next_attempt_at

    # The worker is stopped while the mail server is still answering.
    with (
        mock.patch(SEND_MESSAGES, side_effect=SystemExit(1)),
        pytest.raises(SystemExit),
    ):
        deliver(message.pk)

    message.refresh_from_db()
    assert (message.status, message.attempts, message.next_attempt_at) == (PENDING, 0, due_at)
    assert deliver(message.pk) == DeliveryResult.SENT
    assert len(mailoutbox) == 1


# The claim is a row lock: another worker, and a newer state message, skip a
# message being sent instead of waiting on the mail server. Real concurrent
# transactions, so PostgreSQL only; they commit for real (`transactional_db`)
# and make the rows they need themselves.


@pytest.fixture
def sending_in_another_worker(transactional_db, settings):
    """
    Start delivering a message in a thread whose mail server holds it until
    released; yields (start, release), start returning the thread's outcome box.
    """
    only_practitioners(ensure_bookable())
    set_rules(minimum_notice_hours=12, horizon_days=60)
    # Enqueued tasks are kept, not run: the test delivers each message itself.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    talking, release = threading.Event(), threading.Event()
    outcome = {}
    send_messages = EmailBackend.send_messages

    def slow_server(backend, messages):
        if threading.current_thread().name == "other-worker":
            talking.set()
            assert release.wait(timeout=10), "the test never released the mail server"
        return send_messages(backend, messages)

    def worker(pk):
        try:
            outcome["result"] = deliver(pk)
        finally:
            db_connection.close()

    threads = []

    def start(pk):
        thread = threading.Thread(target=worker, args=(pk,), name="other-worker")
        threads.append(thread)
        thread.start()
        assert talking.wait(timeout=10), "the other worker never reached the mail server"
        return outcome

    with mock.patch.object(EmailBackend, "send_messages", slow_server):
        yield start, release
        release.set()
        for thread in threads:
            thread.join(timeout=10)


@pytest.mark.postgres
def test_message_being_sent_is_skipped_not_waited_for_by_another_worker_and_a_newer_message(
    sending_in_another_worker, mailoutbox
):
    start, release = sending_in_another_worker
    booking = services.change_status(book(), Status.CONFIRMED)
    confirmation = booking.emails.get(kind=OutboundEmail.Kind.CONFIRMATION)
    outcome = start(confirmation.pk)

    began = time.monotonic()
    second_worker = deliver(confirmation.pk)
    services.change_status(booking, Status.CANCELLED, by_client=True)
    waited = time.monotonic() - began

    assert second_worker == DeliveryResult.NOT_DUE
    assert waited < 2, f"waited {waited:.1f} s on the other worker's mail server"
    # Already on its way: sent once, not superseded. (With two workers the
    # cancellation can go out while it is still on its way; its calendar
    # file's higher SEQUENCE makes calendar apps end with the cancelled event
    # whichever lands first.)
    release.set()
    wait_for_outcome = time.monotonic() + 10
    while "result" not in outcome and time.monotonic() < wait_for_outcome:
        time.sleep(0.05)
    assert outcome.get("result") == DeliveryResult.SENT
    assert status_of(confirmation) == SENT
    cancellation = booking.emails.get(kind=OutboundEmail.Kind.CANCELLATION)
    assert status_of(cancellation) == PENDING
    assert deliver(cancellation.pk) == DeliveryResult.SENT
    cancellation.refresh_from_db()  # Its subject, as the worker wrote it.
    subjects = [message.subject for message in mailoutbox]
    assert subjects.count(confirmation.subject) == 1
    assert subjects.count(cancellation.subject) == 1


# Written by the worker: the request stores what each email must say.


def test_the_booking_request_renders_no_email_and_the_worker_writes_it_from_the_row(
    client, mailoutbox
):
    _, data = filled_booking_form(client, message="Please call after 5pm.")
    with (
        mock.patch("booking.services.email_content.render_to_string") as render,
        mock.patch("booking.services.emails.enqueue_delivery"),  # No worker yet.
    ):
        assert client.post(BOOK_URL, data).status_code == 302
    assert render.call_count == 0
    booking = ConsultationBooking.objects.get()
    receipt = booking.emails.get(kind=OutboundEmail.Kind.RECEIPT)
    assert (receipt.subject, receipt.body) == ("", "")
    assert receipt.context["booking"]["reference"] == booking.reference

    # What the email says is what was true when it was written: a later move
    # of the booking, or a new name for its type, does not rewrite the receipt.
    written_for = receipt.context["booking"]["starts_at"]
    ConsultationBooking.objects.filter(pk=booking.pk).update(
        starts_at=booking.starts_at + timedelta(days=1),
        ends_at=booking.ends_at + timedelta(days=1),
        blocks_until=booking.blocks_until + timedelta(days=1),
    )
    booking.consultation_type.__class__.objects.filter(pk=booking.consultation_type_id).update(
        name="Renamed later"
    )
    assert deliver(receipt.pk) == DeliveryResult.SENT

    [sent] = mailoutbox
    receipt.refresh_from_db()
    assert (sent.subject, sent.body) == (receipt.subject, receipt.body)
    assert booking.reference in receipt.subject
    assert when(booking) in receipt.body
    assert written_for == booking.starts_at.isoformat()
    assert "Consultation: Skin assessment (30 minutes)" in receipt.body
    assert "Renamed later" not in receipt.body


def test_a_message_written_in_full_before_the_worker_wrote_them_still_sends_as_written(
    mailoutbox,
):
    booking = book()
    old = OutboundEmail.objects.create(
        booking=booking,
        kind=OutboundEmail.Kind.CONFIRMATION,
        to=booking.email,
        subject="Written by the request",
        body="As the release before wrote it.",
        calendar="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    )

    assert deliver(old.pk) == DeliveryResult.SENT

    [sent] = [message for message in mailoutbox if message.subject == "Written by the request"]
    assert sent.body == "As the release before wrote it."
    assert sent.attachments[0][1] == "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"


def test_a_template_that_fails_in_the_worker_keeps_the_booking_and_the_message_for_a_retry(
    client, send_on_commit, mailoutbox
):
    _, data = filled_booking_form(client)
    with (
        mock.patch(
            "booking.services.email_content.render_to_string", side_effect=RuntimeError("broken")
        ),
        send_on_commit(),
    ):
        assert client.post(BOOK_URL, data).status_code == 302
    booking = ConsultationBooking.objects.get()
    receipt = booking.emails.get(kind=OutboundEmail.Kind.RECEIPT)
    assert (receipt.status, receipt.attempts) == (OutboundEmail.Delivery.PENDING, 1)
    assert "broken" in receipt.last_error
    assert mailoutbox == []

    OutboundEmail.objects.filter(pk=receipt.pk).update(next_attempt_at=timezone.now())
    assert deliver(receipt.pk) == DeliveryResult.SENT
    assert booking.reference in mailoutbox[0].subject
