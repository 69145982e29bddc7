"""
Every write to a booking, each in one transaction with its side effects:
the status history and the outbox messages commit together with the change,
or not at all.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from booking.cache_versions import availability_changed
from booking.models import (
    BookingRules,
    BookingStatusChange,
    ConsultationBooking,
    OutboundEmail,
    ScreeningOutcome,
)
from booking.overlap import refused_as_overlap
from treatments.caching import CONTENT
from treatments.models import SitePage

from . import offers
from . import screening as health
from .emails import queue_email, queue_emails, withdraw_before_care
from .schedule import ClinicCalendar

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
    committed a moment ago by a concurrent request; each attempt but the
    last runs in a savepoint so a refusal leaves the transaction usable for
    the next person (after the last, the transaction is given up anyway).
    """
    *others, last = practitioners or [None]
    for practitioner in others:
        booking.practitioner = practitioner
        try:
            with transaction.atomic():
                booking.save()
            return
        except (IntegrityError, OperationalError) as error:
            if not refused_as_overlap(error):
                raise
    if last is None:
        raise SlotUnavailable
    booking.practitioner = last
    try:
        booking.save()
    except (IntegrityError, OperationalError) as error:
        if refused_as_overlap(error):
            raise SlotUnavailable from error
        raise


def _open_calendar(
    consultation_type, practitioner, *, for_staff, ignore_booking=None, candidates=None
):
    return ClinicCalendar(
        consultation_type,
        practitioner=practitioner,
        ignore_booking=ignore_booking,
        online=not for_staff,
        for_staff=for_staff,
        candidates=candidates,
    )


def read_privacy_policy_version():
    updated_at = (
        SitePage.objects.filter(key=SitePage.Key.PRIVACY)
        .values_list("updated_at", flat=True)
        .first()
    )
    return updated_at.strftime("%Y-%m-%d %H:%M") if updated_at else "unpublished"


# The privacy policy's version, which every booking records with its consent:
# kept by each process until the next content edit (treatments/caching.py).
privacy_policy_version = CONTENT.remember(
    read_privacy_policy_version, enabled=lambda: bool(settings.CONTENT_CACHE_SECONDS)
)


def book_consultation(
    *,
    consultation_type,
    starts_at,
    concerns,
    submission_key,
    practitioner=None,
    taken_by=None,
    send_receipt=True,
    candidates=None,
    screening=None,
    **details,
):
    """
    Take a consultation request, with `practitioner` or, when None, whoever
    the clinic's order gives ("any practitioner"). Returns (booking,
    created): a re-post of the same form returns the booking the first post
    made. `taken_by`, the staff member booking a caller by phone (who took
    their consent), books past minimum notice and horizon (never into an
    overlap) and may leave out the client's receipt. `candidates`: see
    ClinicCalendar. `screening`: the client's valid answers to the health
    questions (booking/services/screening.py), stored with the booking.

    A re-post is not looked for first: it is rare, and it fails by itself
    (its time is its own booking's, or its submission key is taken), which
    is when its booking is looked up, so a new booking costs no query for it.
    """
    for_staff = taken_by is not None
    try:
        with transaction.atomic():
            calendar = _open_calendar(
                consultation_type, practitioner, for_staff=for_staff, candidates=candidates
            )
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
                consent_taken_by=taken_by,
                privacy_policy_version=privacy_policy_version(),
                **details,
            )
            _hold_time(booking, calendar.assignment_order(slot))
            # A new booking has no concerns yet: add them without reading them back.
            listed = ConsultationBooking.concerns.through
            listed.objects.bulk_create(
                listed(consultationbooking=booking, skinconcern_id=concern_id)
                for concern_id in dict.fromkeys(
                    getattr(concern, "pk", concern) for concern in concerns
                )
            )
            health_form_question = False
            if screening is not None:
                health.record_answers(booking, screening)
                health_form_question = screening.assessment.outcome != ScreeningOutcome.FINE
            if for_staff:
                _record_status_change(booking, "", by=taken_by, note="Booked by phone")
            else:
                _record_status_change(booking, "", by_client=True, note="Booked online")
            kinds = [OutboundEmail.Kind.RECEIPT] if send_receipt else []
            if not for_staff:
                kinds.append(OutboundEmail.Kind.CLINIC_ALERT)
            queue_emails(
                booking,
                kinds,
                rules=calendar.rules,
                concerns=concerns,
                health_form_question=health_form_question,
            )
            offers.leave_on_booking(booking)
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
# (recording them early would free the time of a consultation still ahead).
AFTER_THE_CONSULTATION = {Status.COMPLETED, Status.NO_SHOW}

# Which email tells the client about each status, if any.
STATUS_EMAILS = {
    Status.CONFIRMED: OutboundEmail.Kind.CONFIRMATION,
    Status.CANCELLED: OutboundEmail.Kind.CANCELLATION,
    Status.DECLINED: OutboundEmail.Kind.DECLINE,
}


# Changes that give the booking's time back: the waitlist is offered it.
FREES_THE_TIME = {Status.CANCELLED, Status.DECLINED}


class StaleBooking(Exception):
    """The booking changed after the person acting on it loaded it."""

    def __init__(self, booking):
        self.booking = booking
        super().__init__(
            f"Booking {booking.reference} was changed meanwhile (it is now "
            f"{booking.get_status_display().lower()}). Nothing was changed: look again and retry."
        )


class PastClientCutoff(TransitionNotAllowed):
    """Too close to the start for the client to change it online."""


def _lock(booking):
    # Only the booking's row is locked: locking its type and practitioner
    # too would block (and deadlock with) every new booking of theirs.
    return (
        ConsultationBooking.objects.select_for_update(of=("self",))
        .select_related("consultation_type", "practitioner")
        .get(pk=booking.pk)
    )


def _check_client_cutoff(booking, to_status=None):
    rules = BookingRules.current()
    if not booking.client_may_change(rules):
        raise PastClientCutoff(
            booking,
            to_status or Status(booking.status),
            "This booking can no longer be changed online. Please call us.",
        )


def change_status(
    booking, to_status, *, seen_status=None, by=None, by_client=False, note="", now=None
):
    """
    Move a booking along the workflow, recording who did it and telling the
    client. `seen_status` is the status the person acting saw: the change is
    made only if the booking still has it, so two people acting on one
    booking at once never both succeed (the second gets StaleBooking).
    """
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock(booking)
        if seen_status is not None and booking.status != seen_status:
            raise StaleBooking(booking)
        if not booking.can_become(to_status):
            raise TransitionNotAllowed(booking, to_status)
        if to_status in AFTER_THE_CONSULTATION and booking.starts_at > now:
            raise TransitionNotAllowed(booking, to_status, "The consultation has not happened yet.")
        if to_status == Status.ARRIVED and timezone.localdate(now) < timezone.localdate(
            booking.starts_at
        ):
            raise TransitionNotAllowed(
                booking, to_status, "Clients are checked in on the day of their consultation."
            )
        if by_client:
            _check_client_cutoff(booking, to_status)
        from_status = booking.status
        booking.status = to_status
        if to_status in STATUS_EMAILS:
            booking.calendar_sequence += 1
        # The conditional update on the status read under the lock.
        updated = ConsultationBooking.objects.filter(pk=booking.pk, status=from_status).update(
            status=to_status, calendar_sequence=booking.calendar_sequence, updated_at=now
        )
        if not updated:
            raise StaleBooking(booking)
        # A status can free the time (update() sends no signal to say so).
        availability_changed()
        _record_status_change(booking, from_status, by=by, by_client=by_client, note=note)
        if from_status == Status.CONFIRMED:
            # Only a confirmed booking gets before-care; whatever it becomes
            # now, one still waiting has nothing left to prepare for.
            withdraw_before_care(booking)
        if to_status in STATUS_EMAILS:
            queue_email(booking, STATUS_EMAILS[to_status])
        # Once: a completed booking never changes status again, and the
        # conditional update above lets only one of two concurrent completions
        # through (the database's one_aftercare_per_booking backs it up).
        if to_status == Status.COMPLETED and booking.consultation_type.sends_aftercare:
            queue_email(booking, OutboundEmail.Kind.AFTERCARE)
        if by_client:
            queue_email(booking, OutboundEmail.Kind.CLIENT_CHANGE)
        if to_status in FREES_THE_TIME:
            offers.note_freed_time(
                booking.practitioner,
                booking.starts_at,
                booking.blocks_until,
                reason=f"{booking.reference} {Status(to_status).label.lower()}",
                now=now,
            )
    logger.info("Booking %s: %s -> %s", booking.reference, from_status, to_status)
    return booking


def delete_bookings(bookings, *, now=None):
    """
    Delete bookings (the admin's delete, for staff with the delete
    permission, which no group has: the front desk cancels instead). An
    active booking's time still ahead is freed for the waitlist, as a
    cancellation's is, in the delete's transaction. Each is locked and read
    afresh first, so a cancellation at the same moment frees its time once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        for booking in bookings:
            try:
                booking = _lock(booking)
            except ConsultationBooking.DoesNotExist:
                continue  # Deleted meanwhile by someone else.
            if booking.is_active and booking.blocks_until > now:
                offers.note_freed_time(
                    booking.practitioner,
                    booking.starts_at,
                    booking.blocks_until,
                    reason=f"{booking.reference} deleted",
                    now=now,
                )
            # One by one, as the admin deletes: each delete's signals run.
            booking.delete()


def confirm_attendance(booking):
    """The client says they are coming ("Confirm I'm coming" on their page). Idempotent."""
    with transaction.atomic():
        booking = _lock(booking)
        if booking.status not in {Status.REQUESTED, Status.CONFIRMED}:
            raise TransitionNotAllowed(
                booking, Status(booking.status), "This booking is no longer coming up."
            )
        if booking.attendance_confirmed_at is None:
            booking.attendance_confirmed_at = timezone.now()
            booking.save(update_fields=["attendance_confirmed_at", "updated_at"])
            _record_status_change(
                booking, booking.status, by_client=True, note="Client confirmed they are coming"
            )
    return booking


@dataclass(frozen=True)
class MoveResult:
    """
    What a move did: the booking as moved, and what re-checking its health
    answers against the new date found (None: it has none, or the move
    changed nothing), for the page that made the move to say so.
    """

    booking: ConsultationBooking
    health_recheck: health.Recheck | None = None

    @property
    def health_outcome_changed(self):
        """(old outcome, new outcome) when the move changed the health form's outcome, else None."""
        recheck = self.health_recheck
        return (recheck.old, recheck.new) if recheck and recheck.changed else None

    @property
    def health_form_question(self):
        return bool(self.health_recheck and self.health_recheck.needs_a_word)


def move_booking(
    booking,
    new_starts_at,
    *,
    practitioner=None,
    seen_starts_at=None,
    by=None,
    by_client=False,
    for_staff=False,
):
    """
    Move an active booking to another free time of its consultation type,
    with `practitioner` or, when None, any who takes it; under the same
    rules as a new booking. `seen_starts_at`, the time the person acting
    saw, makes a stale form fail with StaleBooking instead of moving a
    booking someone else moved meanwhile. Returns a MoveResult.
    """
    with transaction.atomic():
        booking = _lock(booking)
        if not booking.is_active or booking.status == Status.ARRIVED:
            raise TransitionNotAllowed(booking, Status(booking.status))
        if seen_starts_at is not None and booking.starts_at != seen_starts_at:
            raise StaleBooking(booking)
        if by_client:
            _check_client_cutoff(booking)
        if new_starts_at == booking.starts_at and practitioner in (None, booking.practitioner):
            # A re-post of the same move: nothing to change, nothing to send.
            return MoveResult(booking)
        consultation_type = booking.consultation_type
        calendar = _open_calendar(
            consultation_type, practitioner, for_staff=for_staff, ignore_booking=booking
        )
        slot = calendar.find(new_starts_at)
        if slot is None:
            raise SlotUnavailable
        old_starts_at, old_status = booking.starts_at, booking.status
        old_practitioner, old_blocks_until = booking.practitioner, booking.blocks_until
        booking.starts_at, booking.ends_at = slot.starts_at, slot.ends_at
        booking.blocks_until = slot.ends_at + consultation_type.turnover
        booking.calendar_sequence += 1
        booking.reminder_sent_at = None
        booking.attendance_confirmed_at = None
        if (
            by_client
            and booking.status == Status.CONFIRMED
            and BookingRules.current().reconfirm_after_client_move
        ):
            booking.status = Status.REQUESTED
        # Staying with the same person is preferred when they are free.
        candidates = calendar.assignment_order(slot)
        candidates.sort(key=lambda person: person.pk != booking.practitioner_id)
        _hold_time(booking, candidates)
        _record_status_change(
            booking,
            old_status,
            by=by,
            by_client=by_client,
            note=f"Moved from {timezone.localtime(old_starts_at):%Y-%m-%d %H:%M %Z}",
        )
        # Date rules on health answers count from the appointment date: a
        # changed outcome is recorded for staff, never a reason to refuse the move.
        recheck = health.recheck_after_move(booking)
        if recheck is not None and recheck.changed:
            _record_status_change(
                booking,
                booking.status,
                by=by,
                by_client=by_client,
                note=f"Health form re-checked for the new date: now “{recheck.new.label}” "
                f"(was “{recheck.old.label}”)",
            )
        # Before-care waiting for the old time is withdrawn; the job writes it
        # again for the new time, once that is due and the booking confirmed
        # (unless the client already had it for the same day).
        withdraw_before_care(booking)
        # The emails say whether the health answers need a word, never what they were.
        health_form_question = bool(recheck and recheck.needs_a_word)
        queue_email(
            booking, OutboundEmail.Kind.RESCHEDULED, health_form_question=health_form_question
        )
        if by_client:
            queue_email(
                booking, OutboundEmail.Kind.CLIENT_CHANGE, health_form_question=health_form_question
            )
        # The old time is free now (where the new one does not cover it again).
        offers.note_freed_time(
            old_practitioner,
            old_starts_at,
            old_blocks_until,
            reason=f"{booking.reference} moved",
        )
    logger.info("Booking %s moved to %s", booking.reference, booking.starts_at.isoformat())
    return MoveResult(booking, recheck)
