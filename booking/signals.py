"""
Content that bookings refer to is kept: staff unpublish it instead. The
treatment a booking names is protected by its foreign key (PROTECT); a
many-to-many field has no on_delete, so the skin concerns a booking lists
are protected here, before anything is deleted, wherever the delete comes
from (the admin explains it first: treatments/admin.py).
"""

from django.db.models import ProtectedError
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from treatments.caching import content_changed
from treatments.models import SkinConcern

from .cache_versions import availability_changed, schedule_changed
from .models import (
    BookingRules,
    Closure,
    ConsultationBooking,
    ConsultationType,
    Practitioner,
    Questionnaire,
    QuestionnaireUse,
    QuestionnaireVersion,
    TimeOff,
    WorkingHours,
)

# What the booking page's free times depend on (booking/views/page_cache.py). Bulk
# updates through QuerySet.update() send no signals: the services that use
# one raise the version themselves (change_status). Bookings and time off
# are read afresh by every calendar; what processes keep between changes
# (booking/cache_versions.py's SCHEDULE) is the rest, so a booking does not
# make every process read the rules, the types and everyone's hours again.
READ_AFRESH_MODELS = [ConsultationBooking, TimeOff]
SCHEDULE_MODELS = [
    BookingRules,
    Closure,
    ConsultationType,
    Practitioner,
    WorkingHours,
    # The booking page asks the health questions of a type's published
    # version (booking/services/screening.py): publishing, or a questionnaire's
    # types or “asked online” changing, changes the page too.
    Questionnaire,
    QuestionnaireUse,
    QuestionnaireVersion,
]


def keep_booked_concern(sender, instance, **kwargs):
    bookings = ConsultationBooking.objects.filter(concerns=instance)
    if bookings.exists():
        raise ProtectedError(
            f"Consultation bookings list the skin concern “{instance}”: unpublish it instead.",
            set(bookings),
        )


def practitioner_changed(**kwargs):
    # Practitioners are on a content page too (the team page), cached with the others.
    content_changed()


def connect():
    post_save.connect(practitioner_changed, sender=Practitioner, dispatch_uid="team-page-save")
    post_delete.connect(practitioner_changed, sender=Practitioner, dispatch_uid="team-page-delete")
    for models, receiver in [
        (READ_AFRESH_MODELS, availability_changed),
        (SCHEDULE_MODELS, schedule_changed),
    ]:
        for model in models:
            uid = model.__name__
            post_save.connect(receiver, sender=model, dispatch_uid=f"availability-{uid}")
            post_delete.connect(receiver, sender=model, dispatch_uid=f"availability-delete-{uid}")
    m2m_changed.connect(
        schedule_changed,
        sender=ConsultationType.practitioners.through,
        dispatch_uid="availability-type-practitioners",
    )
    pre_delete.connect(
        keep_booked_concern, sender=SkinConcern, dispatch_uid="booking-keep-booked-concern"
    )
