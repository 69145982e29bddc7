"""
The waitlist: people who found no time that suits join it, are offered a
time when one frees up (offers.py), and the first to claim it books it.

A claim books through `bookings.book_consultation`, like the public form,
with exactly the practitioner the offer names (the one whose time freed up,
whatever the entry asked for): the database's no-overlap rule decides who
gets the time, and the others are told it was just taken and stay on the
list. A client who books, by the waitlist or otherwise, leaves the list for
that consultation type (`offers.leave_on_booking`, called by the booking
service).
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.models import (
    ConsultationBooking,
    ConsultationType,
    FreedTime,
    OutboundEmail,
    WaitlistEntry,
    WaitlistOffer,
)

from .bookings import SlotUnavailable, book_consultation, privacy_policy_version
from .emails import queue_waitlist_email
from .offers import (
    Offered,
    OfferUnavailable,
    Waiting,
    offer_freed_time,
)
from .schedule import ClinicCalendar

# The waitlist's API for the client's pages (an offer by hand is offers.py's).
__all__ = [
    "AsksHealthQuestions",
    "OfferExpired",
    "OfferUnavailable",
    "TimeTaken",
    "claim_offer",
    "join_waitlist",
    "leave_waitlist",
    "next_free_times",
    "sweep_waitlist",
]

logger = logging.getLogger(__name__)


class OfferExpired(OfferUnavailable):
    pass


class TimeTaken(OfferUnavailable):
    """Someone else claimed or booked the time first; the client stays on the list."""


class AsksHealthQuestions(OfferUnavailable):
    """
    The consultation now asks health questions before it is booked
    (booking/services/screening.py), which a claim cannot: it is booked on the
    booking page, where they are asked, or by phone.
    """


def asks_health_questions(consultation_type):
    return (
        ConsultationType.objects.with_health_questions()
        .filter(pk=consultation_type.pk, health_questions_version__isnull=False)
        .exists()
    )


def join_waitlist(*, submission_key, **details):
    """
    Put someone on the waitlist and email them the link to leave it.
    Returns (entry, created): a re-post of the same form returns the entry
    the first post made.
    """
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                submission_key=submission_key or None,
                consent_given_at=timezone.now(),
                privacy_policy_version=privacy_policy_version(),
                **details,
            )
            queue_waitlist_email(entry, OutboundEmail.Kind.WAITLIST_JOINED)
    except IntegrityError:
        existing = (
            submission_key and WaitlistEntry.objects.filter(submission_key=submission_key).first()
        )
        if existing:
            return existing, False
        raise
    logger.info("Waitlist entry %s joined", entry.pk)
    return entry, True


def leave_waitlist(entry):
    """Take an entry off the list (its own link). Idempotent; True if it was waiting."""
    return bool(
        WaitlistEntry.objects.waiting()
        .filter(pk=entry.pk)
        .update(status=Waiting.LEFT, left_at=timezone.now())
    )


def claim_offer(offer, *, now=None):
    """
    Book the offered time for the entry, through the booking service, with
    the practitioner the offer names (`WaitlistOffer.consultation_with`;
    "any" only for an offer from before that was recorded). The first claim
    wins, even when other practitioners are free then; a claim of a time
    someone else took meanwhile raises TimeTaken (and the client stays on
    the list); an expired one OfferExpired. Claiming the same offer again
    returns its booking.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The entry's lock: two of one person's offers claimed at once book once.
        entry = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("consultation_type", "practitioner")
            .get(pk=offer.entry_id)
        )
        offer = (
            WaitlistOffer.objects.select_for_update(of=("self",))
            .select_related("practitioner")
            .get(pk=offer.pk)
        )
        offer.entry = entry
        if offer.status == Offered.CLAIMED and offer.booking_id:
            return ConsultationBooking.objects.get(pk=offer.booking_id)
        if entry.status != Waiting.WAITING:
            raise OfferUnavailable("You are no longer on the waitlist for this consultation.")
        if offer.status == Offered.TAKEN:
            raise TimeTaken
        if offer.status == Offered.EXPIRED or offer.expires_at <= now:
            raise OfferExpired
        if asks_health_questions(entry.consultation_type):
            # Published after they joined: the questions come first.
            raise AsksHealthQuestions
        try:
            booking, _ = book_consultation(
                consultation_type=entry.consultation_type,
                practitioner=offer.consultation_with,
                starts_at=offer.starts_at,
                concerns=[],
                submission_key=f"waitlist-offer-{offer.pk}",
                full_name=entry.full_name,
                email=entry.email,
                phone=entry.phone,
                preferred_contact=ConsultationBooking.ContactMethod.EMAIL,
                message="Booked from the waitlist.",
            )
        except SlotUnavailable:
            WaitlistOffer.objects.filter(pk=offer.pk).update(status=Offered.TAKEN, answered_at=now)
            taken = True
        else:
            taken = False
            WaitlistOffer.objects.filter(pk=offer.pk).update(
                status=Offered.CLAIMED, booking=booking, answered_at=now
            )
    if taken:
        # Raised after the commit, so the offer stays marked as taken.
        raise TimeTaken
    logger.info("Waitlist offer %s claimed: booking %s", offer.pk, booking.reference)
    return booking


def next_free_times(entry, *, limit=5, now=None):
    """The first free times that suit the entry, for the page that tells them theirs was taken."""
    calendar = ClinicCalendar(entry.consultation_type, practitioner=entry.practitioner, now=now)
    first = max(entry.earliest_day, calendar.first_day)
    last = min(entry.latest_day, calendar.last_day)
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    return [slot for slot in calendar.slots(days) if entry.suits(slot.local_start)][:limit]


# How long the waitlist keeps someone's details after they left it (booked,
# left or expired), for the admin's record of the offers made to them. Then
# the entry goes, with its offers and the words of its emails.
FINISHED_ENTRIES_KEPT_DAYS = 30


WAITLIST_KINDS = [OutboundEmail.Kind.WAITLIST_JOINED, OutboundEmail.Kind.WAITLIST_OFFER]


def sweep_waitlist(*, now=None):
    """
    The catch-up behind the tasks, safe to run at any time and concurrently:
    handle freed times whose task was lost, expire entries past their dates
    and offers past their expiry, and forget finished entries after
    FINISHED_ENTRIES_KEPT_DAYS. Returns (offers made, entries expired,
    offers expired, entries forgotten).
    """
    now = now or timezone.now()
    made = 0
    for pk in FreedTime.objects.filter(handled_at__isnull=True).values_list("pk", flat=True):
        made += len(offer_freed_time(pk, now=now))
    entries = WaitlistEntry.objects.past_their_dates(timezone.localdate(now)).update(
        status=Waiting.EXPIRED, left_at=now
    )
    offers = WaitlistOffer.objects.lapsed(now).update(status=Offered.EXPIRED)
    return made, entries, offers, forget_finished_entries(now=now)


def forget_finished_entries(*, now):
    """Delete entries finished long enough ago, and blank the waitlist's old emails."""
    cutoff = now - timedelta(days=FINISHED_ENTRIES_KEPT_DAYS)
    OutboundEmail.objects.filter(kind__in=WAITLIST_KINDS, created_at__lt=cutoff).exclude(
        status=OutboundEmail.Delivery.PENDING
    ).exclude(to="").update(to="", subject="", body="", last_error="")
    _, deleted = (
        WaitlistEntry.objects.exclude(status=Waiting.WAITING).filter(left_at__lt=cutoff).delete()
    )
    return deleted.get(WaitlistEntry._meta.label, 0)
