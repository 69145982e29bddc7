"""
Content that bookings refer to is kept: staff unpublish it instead. The
treatment a booking names is protected by its foreign key (PROTECT); a
many-to-many field has no on_delete, so the skin concerns a booking lists
are protected here, before anything is deleted, wherever the delete comes
from (the admin explains it first: treatments/admin.py).
"""

from django.db.models import ProtectedError
from django.db.models.signals import pre_delete

from treatments.models import SkinConcern

from .models import ConsultationBooking


def keep_booked_concern(sender, instance, **kwargs):
    bookings = ConsultationBooking.objects.filter(concerns=instance)
    if bookings.exists():
        raise ProtectedError(
            f"Consultation bookings list the skin concern “{instance}”: unpublish it instead.",
            set(bookings),
        )


def connect():
    pre_delete.connect(
        keep_booked_concern, sender=SkinConcern, dispatch_uid="booking-keep-booked-concern"
    )
