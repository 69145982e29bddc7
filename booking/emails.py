"""
The booking emails: written to the outbox inside the booking's transaction,
delivered after commit, retried by `send_outbox` while the mail server is
down. Logs name bookings by reference only, never by person.
"""

import logging
from datetime import timedelta
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import BookingRules, OutboundEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

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
    event.add("summary", f"Skin consultation at {settings.CLINIC['name']}")
    event.add("location", f"{settings.CLINIC['street_address']}, {settings.CLINIC['locality']}")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("organizer", f"mailto:{settings.DEFAULT_FROM_EMAIL}")
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
    to = (
        BookingRules.current().clinic_alert_address
        if kind == OutboundEmail.Kind.CLINIC_ALERT
        else booking.email
    )
    method = CALENDAR_METHODS.get(kind)
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
    transaction.on_commit(lambda: deliver(message.pk), robust=True)
    return message


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
    message = OutboundEmail.objects.get(pk=pk)
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        reply_to=[settings.CLINIC["email"]],
    )
    if message.calendar:
        method = "CANCEL" if message.kind == OutboundEmail.Kind.CANCELLATION else "REQUEST"
        email.attach("consultation.ics", message.calendar, f"text/calendar; method={method}")
    try:
        email.send(using="default")
    except Exception as error:  # Any failure of the mail server: keep the message, retry later.
        attempts = message.attempts + 1
        gave_up = attempts >= MAX_ATTEMPTS
        OutboundEmail.objects.filter(pk=pk).update(
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
    for pk in OutboundEmail.objects.due(now).values_list("pk", flat=True):
        result = deliver(pk)
        if result is True:
            sent += 1
        elif result is False:
            failed += 1
    return sent, failed
