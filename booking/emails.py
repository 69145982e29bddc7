"""
The booking emails: written to the outbox inside the booking's transaction,
delivered after commit, retried by `send_outbox` while the mail server is
down. Logs name bookings by reference only, never by person.
"""

import logging
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connections, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import BookingRules, OutboundEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

# Messages that tell the client the booking's current state; only the newest
# of them is worth sending.
STATE_KINDS = [
    OutboundEmail.Kind.CONFIRMATION,
    OutboundEmail.Kind.RESCHEDULED,
    OutboundEmail.Kind.CANCELLATION,
    OutboundEmail.Kind.DECLINE,
    OutboundEmail.Kind.REMINDER,
]

# Messages to the clinic rather than to the client.
TO_CLINIC = {OutboundEmail.Kind.CLINIC_ALERT, OutboundEmail.Kind.CLIENT_CHANGE}

# Which messages carry a calendar file, and with which iTIP method.
CALENDAR_METHODS = {
    OutboundEmail.Kind.CONFIRMATION: "REQUEST",
    OutboundEmail.Kind.RESCHEDULED: "REQUEST",
    OutboundEmail.Kind.CANCELLATION: "CANCEL",
}


def calendar_uid(booking):
    return f"consultation-{booking.reference}@{urlsplit(settings.SITE_URL).hostname}"


def booking_calendar(booking, method):
    """An iCalendar file for the consultation, in the clinic's time zone."""
    zone = timezone.get_current_timezone()
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC['name']}//Consultations//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    # A stable UID and a rising SEQUENCE let calendar apps update or cancel
    # the event they already hold instead of adding another.
    event.add("uid", calendar_uid(booking))
    event.add("sequence", booking.calendar_sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", timezone.localtime(booking.starts_at, zone))
    event.add("dtend", timezone.localtime(booking.ends_at, zone))
    event.add(
        "summary",
        f"{booking.consultation_type.name} with {booking.practitioner.name} "
        f"at {settings.CLINIC['name']}",
    )
    event.add("location", f"{settings.CLINIC['street_address']}, {settings.CLINIC['locality']}")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = settings.CLINIC["name"]
    event.add("organizer", organizer)
    # RFC 5546 wants the invitee named; calendar apps ignore an invitation without one.
    attendee = icalendar.vCalAddress(f"mailto:{booking.email}")
    attendee.params["cn"] = booking.full_name
    attendee.params["role"] = "REQ-PARTICIPANT"
    event.add("attendee", attendee)
    calendar.add_component(event)
    # Zone rules for the year around the consultation keep the file small.
    local_start = timezone.localtime(booking.starts_at, zone)
    calendar.add_missing_timezones(
        first_date=local_start.date() - timedelta(days=366),
        last_date=local_start.date() + timedelta(days=366),
    )
    return calendar.to_ical().decode()


def queue_email(booking, kind):
    """Write one message to the outbox and send it once the transaction commits."""
    context = {
        "booking": booking,
        "clinic": settings.CLINIC,
        "site_url": settings.SITE_URL,
        "manage_url": settings.SITE_URL + booking.get_manage_url(),
        "admin_url": settings.ADMIN_URL,
    }
    to = BookingRules.current().clinic_alert_address if kind in TO_CLINIC else booking.email
    method = CALENDAR_METHODS.get(kind)
    if kind in STATE_KINDS:
        # A newer word on the booking's state replaces any older one still
        # waiting (after an outage, a stale confirmation must not follow a
        # cancellation).
        OutboundEmail.objects.filter(
            booking=booking, kind__in=STATE_KINDS, status=OutboundEmail.Delivery.PENDING
        ).update(status=OutboundEmail.Delivery.SUPERSEDED)
    message = OutboundEmail.objects.create(
        booking=booking,
        kind=kind,
        to=to,
        subject=render_to_string(f"emails/{kind}_subject.txt", context).strip(),
        body=render_to_string(f"emails/{kind}.txt", context),
        calendar=booking_calendar(booking, method) if method else "",
    )
    # robust: a failure here is logged, never shown to the visitor whose
    # booking has already been saved; send_outbox retries the message.
    transaction.on_commit(lambda: deliver_soon(message.pk), robust=True)
    return message


def deliver_soon(pk):
    """
    Send a new message right away, in a background thread unless settings
    say otherwise, so no request waits on the mail server. If the process
    dies first, the message is still in the outbox for `send_outbox`.
    """
    if not settings.BOOKING_EMAIL_IN_BACKGROUND:
        deliver(pk)
        return
    threading.Thread(target=_deliver_in_thread, args=(pk,), daemon=True).start()


def _deliver_in_thread(pk):
    try:
        deliver(pk)
    except Exception:
        logger.exception("Email %s: background delivery failed; send_outbox will retry", pk)
    finally:
        connections.close_all()


def deliver(pk):
    """
    Send one outbox message if it is due. Claiming it with a conditional
    update first means two workers never send the same message.
    """
    now = timezone.now()
    claimed = (
        OutboundEmail.objects.due(now)
        .filter(pk=pk)
        .update(next_attempt_at=now + timedelta(minutes=5))
    )
    if not claimed:
        return None  # Sent already, or another worker has it.
    message = OutboundEmail.objects.select_related("booking").get(pk=pk)
    # Replies to the clinic's alert go to the client; the client's replies to the clinic.
    alert = (
        message.kind in TO_CLINIC
        and message.booking
        and message.booking.email
    )
    reply_to = message.booking.email if alert else settings.CLINIC["email"]
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        reply_to=[reply_to],
    )
    if message.calendar:
        method = CALENDAR_METHODS[message.kind]
        email.attach("consultation.ics", message.calendar, f"text/calendar; method={method}")
    try:
        email.send(using="default")
    except Exception as error:  # Any failure of the mail server: keep the message, retry later.
        attempts = message.attempts + 1
        gave_up = attempts >= MAX_ATTEMPTS
        # Only a message still waiting goes back in the queue: one superseded
        # while this attempt ran stays superseded.
        OutboundEmail.objects.filter(pk=pk, status=OutboundEmail.Delivery.PENDING).update(
            attempts=attempts,
            last_error=f"{type(error).__name__}: {error}"[:1000],
            status=OutboundEmail.Delivery.FAILED if gave_up else OutboundEmail.Delivery.PENDING,
            next_attempt_at=now + timedelta(minutes=2**attempts),
        )
        logger.warning(
            "Email %s (%s) for booking %s not sent (attempt %s): %s",
            message.pk,
            message.kind,
            message.booking.reference if message.booking else "-",
            attempts,
            type(error).__name__,
        )
        return False
    OutboundEmail.objects.filter(pk=pk).update(
        status=OutboundEmail.Delivery.SENT,
        sent_at=timezone.now(),
        attempts=message.attempts + 1,
        last_error="",
    )
    return True


def deliver_due(now=None):
    """Send every message that is due; returns (sent, failed)."""
    sent = failed = 0
    # Oldest first, so messages about one booking arrive in the order they were written.
    for pk in (
        OutboundEmail.objects.due(now).order_by("created_at", "pk").values_list("pk", flat=True)
    ):
        result = deliver(pk)
        if result is True:
            sent += 1
        elif result is False:
            failed += 1
    return sent, failed
