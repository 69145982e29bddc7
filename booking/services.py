"""
Every write to a booking, each in one transaction with its side effects:
the status history and the outbox messages commit together with the change,
or not at all.
"""

import logging

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from treatments.models import SitePage

from .availability import ClinicCalendar
from .emails import queue_email
from .models import BookingStatusChange, ConsultationBooking, OutboundEmail
from .sqlite import REFUSAL as OVERLAP_CONSTRAINT

logger = logging.getLogger(__name__)
Status = ConsultationBooking.Status


class SlotUnavailable(Exception):
    """The chosen time was taken, closed or moved out of reach meanwhile."""


class TransitionNotAllowed(Exception):
    def __init__(self, booking, to_status, reason=""):
        self.booking = booking
        self.to_status = to_status
        super().__init__(
            reason
            or f"A {booking.get_status_display().lower()} booking cannot become {to_status.label.lower()}."
        )


def _record_status_change(booking, from_status, *, by=None, by_client=False, note=""):
    BookingStatusChange.objects.create(
        booking=booking,
        from_status=from_status,
        to_status=booking.status,
        changed_by=by,
        changed_by_client=by_client,
        note=note,
    )


def _hold_time(booking, practitioners):
    """
    Save `booking` with the first of `practitioners` the database accepts.
    The exclusion constraint (PostgreSQL) or the overlap triggers (SQLite)
    refuse a practitioner whose time another active booking holds, even one
    committed a moment ago by a concurrent request; each attempt runs in a
    savepoint so a refusal leaves the transaction usable for the next person.
    """
    for practitioner in practitioners:
        booking.practitioner = practitioner
        try:
            with transaction.atomic():
                booking.save()
            return
        except IntegrityError as error:
            if OVERLAP_CONSTRAINT not in str(error):
                raise
    raise SlotUnavailable


def _open_calendar(consultation_type, practitioner, *, for_staff, ignore_booking=None):
    return ClinicCalendar(
        consultation_type,
        practitioner=practitioner,
        ignore_booking=ignore_booking,
        online=not for_staff,
        for_staff=for_staff,
    )


def privacy_policy_version():
    updated_at = (
        SitePage.objects.filter(key=SitePage.Key.PRIVACY)
        .values_list("updated_at", flat=True)
        .first()
    )
    return updated_at.strftime("%Y-%m-%d %H:%M") if updated_at else "unpublished"


def book_consultation(
    *,
    consultation_type,
    starts_at,
    concerns,
    submission_key,
    practitioner=None,
    for_staff=False,
    **details,
):
    """
    Take a consultation request, with `practitioner` or, when None, whoever
    the clinic's order gives ("any practitioner"). Returns (booking,
    created): a re-post of the same form returns the booking the first post
    made. `for_staff` books past minimum notice and horizon (never into an
    overlap).
    """
    if submission_key:
        existing = ConsultationBooking.objects.filter(submission_key=submission_key).first()
        if existing:
            return existing, False
    try:
        with transaction.atomic():
            calendar = _open_calendar(consultation_type, practitioner, for_staff=for_staff)
            slot = calendar.find(starts_at)
            if slot is None:
                raise SlotUnavailable
            booking = ConsultationBooking(
                consultation_type=consultation_type,
                treatment=consultation_type.treatment,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                blocks_until=slot.ends_at + consultation_type.turnover,
                submission_key=submission_key or None,
                consent_given_at=timezone.now(),
                privacy_policy_version=privacy_policy_version(),
                **details,
            )
            _hold_time(booking, calendar.assignment_order(slot))
            booking.concerns.set(concerns)
            _record_status_change(booking, "", by_client=True, note="Booked online")
            queue_email(booking, OutboundEmail.Kind.RECEIPT)
            queue_email(booking, OutboundEmail.Kind.CLINIC_ALERT)
    except (IntegrityError, SlotUnavailable):
        # The same form posted twice at once: the other request won the
        # submission key (and so the seat), and its booking is the one to show.
        existing = (
            submission_key
            and ConsultationBooking.objects.filter(submission_key=submission_key).first()
        )
        if existing:
            return existing, False
        raise
    logger.info("Booking %s requested for %s", booking.reference, booking.starts_at.isoformat())
    return booking, True


# Outcomes that can only be recorded once the consultation's time has come
# (recording them early would free the seat of a consultation still ahead).
AFTER_THE_CONSULTATION = {Status.COMPLETED, Status.NO_SHOW}

# Which email tells the client about each status, if any.
STATUS_EMAILS = {
    Status.CONFIRMED: OutboundEmail.Kind.CONFIRMATION,
    Status.CANCELLED: OutboundEmail.Kind.CANCELLATION,
    Status.DECLINED: OutboundEmail.Kind.DECLINE,
}


def change_status(booking, to_status, *, by=None, by_client=False, note=""):
    """Move a booking along the workflow, recording who did it and telling the client."""
    with transaction.atomic():
        booking = ConsultationBooking.objects.select_for_update().get(pk=booking.pk)
        if not booking.can_become(to_status):
            raise TransitionNotAllowed(booking, to_status)
        if to_status in AFTER_THE_CONSULTATION and booking.starts_at > timezone.now():
            raise TransitionNotAllowed(booking, to_status, "The consultation has not happened yet.")
        from_status = booking.status
        booking.status = to_status
        if to_status in STATUS_EMAILS:
            booking.calendar_sequence += 1
        booking.save(update_fields=["status", "calendar_sequence", "updated_at"])
        _record_status_change(booking, from_status, by=by, by_client=by_client, note=note)
        if to_status in STATUS_EMAILS:
            queue_email(booking, STATUS_EMAILS[to_status])
    logger.info("Booking %s: %s -> %s", booking.reference, from_status, to_status)
    return booking


def move_booking(
    booking, new_starts_at, *, practitioner=None, by=None, by_client=False, for_staff=False
):
    """
    Move an active booking to another free time of its consultation type,
    with `practitioner` or, when None, any who takes it; under the same
    rules as a new booking.
    """
    with transaction.atomic():
        # Only the booking's row is locked: locking its type and practitioner
        # too would block (and deadlock with) every new booking of theirs.
        booking = (
            ConsultationBooking.objects.select_for_update(of=("self",))
            .select_related("consultation_type", "practitioner")
            .get(pk=booking.pk)
        )
        if not booking.is_active:
            raise TransitionNotAllowed(booking, Status(booking.status))
        if new_starts_at == booking.starts_at and practitioner in (None, booking.practitioner):
            return booking  # A re-post of the same move: nothing to change, nothing to send.
        consultation_type = booking.consultation_type
        calendar = _open_calendar(
            consultation_type, practitioner, for_staff=for_staff, ignore_booking=booking
        )
        slot = calendar.find(new_starts_at)
        if slot is None:
            raise SlotUnavailable
        old_starts_at = booking.starts_at
        booking.starts_at, booking.ends_at = slot.starts_at, slot.ends_at
        booking.blocks_until = slot.ends_at + consultation_type.turnover
        booking.calendar_sequence += 1
        booking.reminder_sent_at = None
        # Staying with the same person is preferred when they are free.
        candidates = calendar.assignment_order(slot)
        candidates.sort(key=lambda person: person.pk != booking.practitioner_id)
        _hold_time(booking, candidates)
        _record_status_change(
            booking,
            booking.status,
            by=by,
            by_client=by_client,
            note=f"Moved from {timezone.localtime(old_starts_at):%Y-%m-%d %H:%M %Z}",
        )
        queue_email(booking, OutboundEmail.Kind.RESCHEDULED)
    logger.info("Booking %s moved to %s", booking.reference, booking.starts_at.isoformat())
    return booking


def send_due_reminders(now=None):
    """
    Queue the reminder for every confirmed booking starting within the
    reminder window. Marking the booking first, with a conditional update,
    is what makes overlapping runs of the command send each reminder once.
    """
    now = now or timezone.now()
    queued = 0
    for booking in ConsultationBooking.objects.due_for_reminder(now):
        with transaction.atomic():
            claimed = ConsultationBooking.objects.filter(
                pk=booking.pk,
                status=Status.CONFIRMED,
                starts_at=booking.starts_at,  # not moved since it was listed
                reminder_sent_at__isnull=True,
            ).update(reminder_sent_at=now)
            if claimed:
                queue_email(booking, OutboundEmail.Kind.REMINDER)
                queued += 1
    return queued


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
            OutboundEmail.objects.filter(booking=booking).update(
                to="", subject="", body="", calendar="", last_error=""
            )
            # The admin's history of edits to the booking (its change messages
            # name fields, not values; the object's name is its reference).
            LogEntry.objects.filter(content_type=content_type, object_id=str(booking.pk)).update(
                object_repr=booking.reference
            )
            BookingStatusChange.objects.filter(booking=booking).update(note="")
        count += 1
    return count
