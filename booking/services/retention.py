"""
Personal data past the retention period: the `anonymise_bookings` command
(BOOKING_RETENTION_MONTHS) removes it from old bookings, their health
answers, emails and history, and keeps what the clinic's records need;
`anonymise_booking` is also how a client's erasure request is carried out
(booking/services/my_visits.py).
"""

from datetime import timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from booking.models import (
    BookingRules,
    BookingStatusChange,
    ConsultationBooking,
    OutboundEmail,
    ScreeningAnswers,
)

ANONYMISED_NAME = "Anonymised"


def medical_records_since(rules, now=None):
    """
    From when completed medical consultations are kept whole (the booking
    rules' medical record years; None when the clinic keeps none).
    """
    if not rules.medical_record_years:
        return None
    return (now or timezone.now()) - timedelta(days=round(rules.medical_record_years * 365.25))


def anonymise_old_bookings(*, cutoff):
    """
    Remove the personal data of bookings whose consultation was before
    `cutoff`, keeping what is not personal (time, treatment, status,
    history) for the clinic's records; the medical records the booking
    rules keep stay whole until their years have passed.
    """
    count = 0
    content_type = ContentType.objects.get_for_model(ConsultationBooking)
    bookings = ConsultationBooking.objects.past_retention(cutoff)
    if (since := medical_records_since(BookingRules.read())) is not None:
        bookings = bookings.exclude(
            pk__in=ConsultationBooking.objects.medical_records(since=since).values("pk")
        )
    for booking in bookings.only("pk", "reference"):
        anonymise_booking(booking, content_type=content_type)
        count += 1
    return count


def anonymise_booking(booking, *, content_type=None):
    """
    Remove one booking's personal data (the nightly job's and a client's
    erasure request's one way of doing it), in its own transaction.
    """
    content_type = content_type or ContentType.objects.get_for_model(ConsultationBooking)
    with transaction.atomic():
        ConsultationBooking.objects.filter(pk=booking.pk).update(
            full_name=ANONYMISED_NAME,
            email="",
            phone="",
            message="",
            internal_notes="",
            submission_key=None,
            anonymised_at=timezone.now(),
        )
        booking.concerns.clear()
        # Health answers are deleted outright, not blanked.
        ScreeningAnswers.objects.filter(booking=booking).delete()
        OutboundEmail.objects.filter(booking=booking).update(
            to="", subject="", body="", calendar="", context={}, last_error=""
        )
        # The admin's history of edits to the booking (its change messages
        # name fields, not values; the object's name is its reference).
        LogEntry.objects.filter(content_type=content_type, object_id=str(booking.pk)).update(
            object_repr=booking.reference
        )
        BookingStatusChange.objects.filter(booking=booking).update(note="")
