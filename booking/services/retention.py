"""
Personal data past the retention period: the `anonymise_bookings` command
(BOOKING_RETENTION_MONTHS) removes it from old bookings, their health
answers, emails and history, and keeps what the clinic's records need.
"""

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from booking.models import (
    BookingStatusChange,
    ConsultationBooking,
    OutboundEmail,
    ScreeningAnswers,
)

ANONYMISED_NAME = "Anonymised"


def anonymise_old_bookings(*, cutoff):
    """
    Remove the personal data of bookings whose consultation was before
    `cutoff`, keeping what is not personal (time, treatment, status,
    history) for the clinic's records.
    """
    count = 0
    content_type = ContentType.objects.get_for_model(ConsultationBooking)
    for booking in ConsultationBooking.objects.past_retention(cutoff).only("pk", "reference"):
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
        count += 1
    return count
