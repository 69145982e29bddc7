"""
The waitlist: people who found no time that suits are offered one when it
frees up, and the first to claim it books it.

How a freed time becomes offers:

1. The change that frees a practitioner's time (a cancellation, a decline,
   a move, new hours or time off removed) writes a FreedTime row in its own
   transaction (`note_freed_time`), and enqueues the task
   `offer_freed_time` once that transaction commits. Nothing is offered
   from a change that rolled back.
2. The task locks the row (SKIP LOCKED: another worker handling it leaves
   it alone), finds who waits for a time then, and offers each of them the
   first free time within it that suits them, then marks the row handled,
   all in one transaction: a row is handled once, whichever process or
   instance freed the time or runs the task. `sweep_waitlist` (a timer)
   handles any row whose task was lost.
3. An offer is a WaitlistOffer row and an outbox email with a signed claim
   link. The unique (entry, time) constraint means nobody is offered the
   same time twice. The offer expires after WAITLIST_OFFER_HOURS, and always
   before the time's minimum notice; a time inside minimum notice or in the
   past is never offered (ClinicCalendar leaves those out).
4. A claim books through `services.book_consultation`, like the public
   form: the database's no-overlap rule decides who gets the time, and the
   others are told it was just taken and stay on the list.

A client who books, by the waitlist or otherwise, leaves the list for that
consultation type (`leave_on_booking`, called by the booking service).
"""

import logging
from datetime import datetime, time, timedelta
from functools import partial
from itertools import groupby

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from . import services
from .availability import ClinicCalendar
from .emails import enqueue_delivery_on_commit
from .models import (
    BookingRules,
    ConsultationBooking,
    ConsultationType,
    FreedTime,
    OutboundEmail,
    Practitioner,
    WaitlistEntry,
    WaitlistOffer,
)

logger = logging.getLogger(__name__)
Waiting = WaitlistEntry.Status
Offered = WaitlistOffer.Status


class OfferUnavailable(Exception):
    """An offer that can no longer be claimed; the message says why, for the client."""


class OfferExpired(OfferUnavailable):
    pass


class TimeTaken(OfferUnavailable):
    """Someone else claimed or booked the time first; the client stays on the list."""


class AsksHealthQuestions(OfferUnavailable):
    """
    The consultation now asks health questions before it is booked
    (booking/screening.py), which a claim cannot: it is booked on the
    booking page, where they are asked, or by phone.
    """


def asks_health_questions(consultation_type):
    return (
        ConsultationType.objects.with_health_questions()
        .filter(pk=consultation_type.pk, health_questions_version__isnull=False)
        .exists()
    )


class AlreadyOffered(Exception):
    """That time was offered to this entry before."""


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
                privacy_policy_version=services.privacy_policy_version(),
                **details,
            )
            _queue_message(entry, OutboundEmail.Kind.WAITLIST_JOINED)
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


def leave_on_booking(booking):
    """
    A client who books a consultation no longer waits for one of that type:
    their entries (by email, in any case) leave the list, inside the
    booking's transaction.
    """
    WaitlistEntry.objects.waiting().filter(
        email__iexact=booking.email, consultation_type=booking.consultation_type_id
    ).update(status=Waiting.BOOKED, booking=booking, left_at=timezone.now())


def note_freed_time(practitioner, starts_at, ends_at, *, reason="", now=None):
    """
    Record, inside the caller's transaction, that `practitioner` is free from
    `starts_at` to `ends_at`, and have offers made from it once that
    transaction commits. A time already past is not worth a row.
    """
    now = now or timezone.now()
    if ends_at <= now or ends_at <= starts_at:
        return None
    freed = FreedTime.objects.create(
        practitioner=practitioner, starts_at=starts_at, ends_at=ends_at, reason=reason[:100]
    )
    # Robust: a failure to enqueue is logged; sweep_waitlist handles the row later.
    transaction.on_commit(partial(offer_freed_time_task.enqueue, freed.pk), robust=True)
    return freed


def note_closure_lifted(closure):
    """A closure removed or shortened: its days may be free for everyone who works them."""
    zone = timezone.get_current_timezone()
    starts_at = datetime.combine(closure.starts_on, time(0), tzinfo=zone)
    ends_at = datetime.combine(closure.ends_on + timedelta(days=1), time(0), tzinfo=zone)
    for practitioner in Practitioner.objects.bookable_online():
        note_freed_time(practitioner, starts_at, ends_at, reason=f"{closure} lifted")


@task
def offer_freed_time_task(pk):
    """The task: make the offers for one freed time. Returns how many were made."""
    return len(offer_freed_time(pk))


def offer_freed_time(pk, *, now=None):
    """
    Make the offers for one freed time, once: the row is locked and marked
    handled in the same transaction as the offers and their emails. A
    concurrent run skips the locked row; a later one finds it handled. On
    SQLite (local mode) transactions take the write lock when they begin
    (IMMEDIATE), so runs wait for one another and the later finds it handled.
    Returns the offers made.
    """
    now = now or timezone.now()
    with transaction.atomic():
        freed = (
            # Only the row: locking its practitioner too would make a worker
            # skip every other freed time of theirs while this one is handled.
            FreedTime.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=pk, handled_at__isnull=True)
            .select_related("practitioner")
            .first()
        )
        if freed is None:
            return []
        made = _offers_for(freed, now)
        FreedTime.objects.filter(pk=freed.pk).update(handled_at=now)
    if made:
        logger.info("Freed time %s: %s waitlist offer(s) made", pk, len(made))
    return made


def _offers_for(freed, now):
    """For each entry that would take the freed time: its first free time within it that suits."""
    zone = timezone.get_current_timezone()
    first_day = timezone.localtime(max(freed.starts_at, now), zone).date()
    last_day = timezone.localtime(freed.ends_at, zone).date()
    entries = list(
        WaitlistEntry.objects.waiting()
        .filter(
            Q(practitioner__isnull=True) | Q(practitioner=freed.practitioner),
            earliest_day__lte=last_day,
            latest_day__gte=first_day,
        )
        .select_related("consultation_type", "practitioner")
        .order_by("consultation_type", "created_at", "pk")
    )
    if not entries:
        return []
    rules = BookingRules.current()
    made = []
    for _, group in groupby(entries, key=lambda entry: entry.consultation_type_id):
        group = list(group)
        # The public rules (online, minimum notice, horizon): what a claim
        # through the booking service would accept.
        calendar = ClinicCalendar(
            group[0].consultation_type, practitioner=freed.practitioner, now=now
        )
        days = [
            first_day + timedelta(n)
            for n in range((last_day - first_day).days + 1)
            if calendar.first_day <= first_day + timedelta(n) <= calendar.last_day
        ]
        slots = [
            slot
            for slot in calendar.slots(days)
            if freed.starts_at <= slot.starts_at < freed.ends_at
        ]
        if not slots:
            continue
        # Offers made before within the freed time: never the same time
        # twice, and no second time while one within it is still open.
        already = set()
        still_open = set()
        for entry_id, starts_at, is_open in (
            WaitlistOffer.objects.filter(
                entry__in=group,
                starts_at__gte=slots[0].starts_at,
                starts_at__lte=slots[-1].starts_at,
            )
            .annotate(is_open=Q(status=Offered.OFFERED, expires_at__gt=now))
            .values_list("entry_id", "starts_at", "is_open")
        ):
            already.add((entry_id, starts_at))
            if is_open:
                still_open.add(entry_id)
        for entry in group:
            if entry.pk in still_open:
                continue
            for slot in slots:
                if (entry.pk, slot.starts_at) in already or not entry.suits(slot.local_start):
                    continue
                try:
                    offer = _make_offer(entry, slot.starts_at, rules=rules, now=now)
                except AlreadyOffered:
                    break  # A concurrent run offered them this time: one is enough.
                if offer is not None:
                    made.append(offer)
                    break
    return made


def offer_expiry(starts_at, *, rules, now):
    """An offer lasts WAITLIST_OFFER_HOURS, and ends where the time's minimum notice begins."""
    return min(
        now + timedelta(hours=settings.WAITLIST_OFFER_HOURS),
        starts_at - timedelta(hours=rules.minimum_notice_hours),
    )


def _make_offer(entry, starts_at, *, rules, now, by=None):
    """
    The offer and its email, or None if it would expire before it could be
    claimed. AlreadyOffered if the time was offered to them before.
    """
    expires_at = offer_expiry(starts_at, rules=rules, now=now)
    if expires_at <= now:
        return None
    try:
        with transaction.atomic():
            offer = WaitlistOffer.objects.create(
                entry=entry,
                starts_at=starts_at,
                expires_at=expires_at,
                offered_by=by,
                created_at=now,
            )
    except IntegrityError as error:
        # Offered before, or by a concurrent run (the unique constraint
        # waited for it to commit): never twice.
        raise AlreadyOffered("That time was offered to them before.") from error
    _queue_message(entry, OutboundEmail.Kind.WAITLIST_OFFER, offer=offer)
    return offer


def offer_time(entry, starts_at, *, by, now=None):
    """
    Staff offer a specific free time to a specific entry by hand: the same
    offer and email as a freed time makes, under the same rules (free,
    within minimum notice and horizon, never the same time twice).
    """
    now = now or timezone.now()
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_related("consultation_type", "practitioner").get(
            pk=entry.pk
        )
        if entry.status != Waiting.WAITING:
            raise OfferUnavailable("They are no longer on the waitlist.")
        calendar = ClinicCalendar(entry.consultation_type, practitioner=entry.practitioner, now=now)
        if calendar.find(starts_at) is None:
            raise OfferUnavailable(
                "That time is not free for online booking (taken, closed, or inside minimum notice)."
            )
        offer = _make_offer(entry, starts_at, rules=calendar.rules, now=now, by=by)
        if offer is None:
            raise OfferUnavailable("That time is too close to offer: it could not be claimed.")
    return offer


def claim_offer(offer, *, now=None):
    """
    Book the offered time for the entry, through the booking service. The
    first claim wins; a claim of a time someone else took meanwhile raises
    TimeTaken (and the client stays on the list); an expired one
    OfferExpired. Claiming the same offer again returns its booking.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The entry's lock: two of one person's offers claimed at once book once.
        entry = (
            WaitlistEntry.objects.select_for_update(of=("self",))
            .select_related("consultation_type", "practitioner")
            .get(pk=offer.entry_id)
        )
        offer = WaitlistOffer.objects.select_for_update().get(pk=offer.pk)
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
            booking, _ = services.book_consultation(
                consultation_type=entry.consultation_type,
                practitioner=entry.practitioner,
                starts_at=offer.starts_at,
                concerns=[],
                submission_key=f"waitlist-offer-{offer.pk}",
                full_name=entry.full_name,
                email=entry.email,
                phone=entry.phone,
                preferred_contact=ConsultationBooking.ContactMethod.EMAIL,
                message="Booked from the waitlist.",
            )
        except services.SlotUnavailable:
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


def _queue_message(entry, kind, *, offer=None):
    """An email to the waiting client, in the outbox, sent once the transaction commits."""
    context = {
        "entry": entry,
        "offer": offer,
        "clinic": settings.CLINIC,
        "site_url": settings.SITE_URL,
        "leave_url": settings.SITE_URL + entry.get_leave_url(),
        "claim_url": settings.SITE_URL + offer.get_claim_url() if offer else "",
    }
    message = OutboundEmail.objects.create(
        kind=kind,
        to=entry.email,
        subject=render_to_string(f"emails/{kind}_subject.txt", context).strip(),
        body=render_to_string(f"emails/{kind}.txt", context),
    )
    enqueue_delivery_on_commit([message.pk])
    return message
