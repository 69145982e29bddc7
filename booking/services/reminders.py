"""
The messages the clock sends, each queued once however many runs of the job
overlap: the reminder before a confirmed consultation and the before-care
its type sends (the jobs `send_reminders`; the outbox sends them).
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.models import (
    ConsultationBooking,
    OutboundEmail,
)

from .emails import queue_email

logger = logging.getLogger(__name__)


Status = ConsultationBooking.Status


def send_due_reminders(now=None):
    """
    Queue the reminder for every confirmed booking starting within the
    reminder lead time. Marking the booking first, with a conditional update,
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


def send_due_before_care(now=None):
    """
    Queue before-care for every confirmed consultation whose type sends it
    and whose time for it has come (ConsultationBooking.before_care_due_at),
    once per booking and consultation day. Each is written under the
    booking's row lock, after checking that it is still confirmed for the
    time listed and has no before-care for that day: overlapping runs of
    the job, on one machine or several, wait for one another on the booking
    and the second finds the first's message. The partial unique constraint
    one_before_care_per_consultation_day is the database's last word.
    Returns how many were queued.
    """
    now = now or timezone.now()
    queued = 0
    for listed in ConsultationBooking.objects.awaiting_before_care(now):
        if listed.before_care_due_at() > now:
            continue
        with transaction.atomic():
            booking = (
                ConsultationBooking.objects.select_for_update(of=("self",))
                .select_related("consultation_type", "practitioner")
                .filter(pk=listed.pk, status=Status.CONFIRMED, starts_at=listed.starts_at)
                .first()
            )
            if booking is None or not booking.consultation_type.sends_before_care:
                continue  # Moved, cancelled or its text removed since it was listed.
            if (
                booking.emails.filter(
                    kind=OutboundEmail.Kind.BEFORE_CARE, consultation_date=booking.clinic_date
                )
                .exclude(status=OutboundEmail.Delivery.SUPERSEDED)
                .exists()
            ):
                continue
            try:
                with transaction.atomic():
                    queue_email(booking, OutboundEmail.Kind.BEFORE_CARE)
            except IntegrityError:
                continue
            queued += 1
    return queued
