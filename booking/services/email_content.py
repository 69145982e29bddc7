"""
What a booking's email says. The request that changes a booking stores, in
its outbox row, what the booking looked like (`email_context`); the task
worker writes the subject, text and calendar file from that when it sends
the email (`write_email`). So no request renders an email or builds a
calendar file, and what an email says is still what was true when the change
was made, whatever happens to the booking before it is sent.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from booking.models import ConsultationBooking, ConsultationType, OutboundEmail, Practitioner

# Messages to the clinic rather than to the client.
TO_CLINIC = {OutboundEmail.Kind.CLINIC_ALERT, OutboundEmail.Kind.CLIENT_CHANGE}

# Which messages carry a calendar file, and with which iTIP method.
CALENDAR_METHODS = {
    OutboundEmail.Kind.CONFIRMATION: "REQUEST",
    OutboundEmail.Kind.RESCHEDULED: "REQUEST",
    OutboundEmail.Kind.CANCELLATION: "CANCEL",
}

# What the templates and the calendar file read of a booking, its type and
# its practitioner: stored with each email so it can be written later.
BOOKING_FIELDS = [
    "reference",
    "full_name",
    "email",
    "preferred_contact",
    "message",
    "status",
    "calendar_sequence",
]
TYPE_FIELDS = ["name", "duration_minutes", "before_care_text", "aftercare_text"]
PRACTITIONER_FIELDS = ["name", "role"]


def email_context(booking, *, health_form_question=False, concerns_display=None):
    """
    What emails about `booking` need, as JSON: the booking as it is now.
    `concerns_display`, the skin concerns as listed (only the clinic's alert
    shows them), is read from the booking only when not given.
    """
    practitioner = booking.practitioner
    return {
        "booking": {
            **{name: getattr(booking, name) for name in BOOKING_FIELDS},
            "phone": booking.phone.as_e164 if booking.phone else "",
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
        },
        "consultation_type": {
            name: getattr(booking.consultation_type, name) for name in TYPE_FIELDS
        },
        "practitioner": (
            {name: getattr(practitioner, name) for name in PRACTITIONER_FIELDS}
            if practitioner
            else None
        ),
        "health_form_question": health_form_question,
        "concerns_display": (
            booking.concerns_display if concerns_display is None else concerns_display
        ),
    }


def booking_as_it_was(context):
    """The booking an email's context describes, as an unsaved instance the templates read."""
    fields = context["booking"]
    booking = ConsultationBooking(
        **{
            **fields,
            "starts_at": datetime.fromisoformat(fields["starts_at"]),
            "ends_at": datetime.fromisoformat(fields["ends_at"]),
        }
    )
    booking.consultation_type = ConsultationType(**context["consultation_type"])
    if context["practitioner"] is not None:
        booking.practitioner = Practitioner(**context["practitioner"])
    return booking


def write_email(message):
    """(subject, body, calendar file) of an outbox row stored with its context."""
    context = message.context
    booking = booking_as_it_was(context)
    template_context = {
        "booking": booking,
        "clinic": settings.CLINIC,
        "site_url": settings.SITE_URL,
        "manage_url": settings.SITE_URL + booking.get_manage_url(),
        "admin_url": settings.ADMIN_URL,
        "health_form_question": context["health_form_question"],
        "concerns_display": context["concerns_display"],
    }
    method = CALENDAR_METHODS.get(message.kind)
    return (
        render_to_string(f"emails/{message.kind}_subject.txt", template_context).strip()[:255],
        render_to_string(f"emails/{message.kind}.txt", template_context),
        booking_calendar(booking, method) if method else "",
    )


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
    event.add("dtstart", calendar_time(booking.starts_at, zone))
    event.add("dtend", calendar_time(booking.ends_at, zone))
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


def calendar_time(instant, zone):
    """
    The consultation's time as the clinic's clock shows it, with the zone's
    rules attached (TZID), so calendar apps show it in clinic time. In the
    hour that happens twice when the clocks go back, RFC 5545 reads a wall
    time as its first occurrence, so such a time is written in UTC instead,
    which names the one instant meant.
    """
    local = timezone.localtime(instant, zone)
    if local.utcoffset() != local.replace(fold=1 - local.fold).utcoffset():
        return instant.astimezone(UTC)
    return local
