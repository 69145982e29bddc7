"""
Freed times and the offers made from them: the part of the waitlist that
the changes freeing a practitioner's time call (the booking service, and
the schedule changes below), and staff's offer by hand.

How a freed time becomes offers:

1. The change that frees a practitioner's time (a cancellation, a decline,
   a move, new hours or time off removed, a closure lifted) writes a
   FreedTime row in its own transaction (`note_freed_time`), and enqueues
   the task `offer_freed_time_task` once that transaction commits. Nothing is
   offered from a change that rolled back.
2. The task locks the row (SKIP LOCKED: another worker handling it leaves
   it alone), finds who waits for a time then, and offers each of them the
   first free time within it that suits them, then marks the row handled,
   all in one transaction: a row is handled once, whichever process or
   instance freed the time or runs the task. `sweep_waitlist` (a timer)
   handles any row whose task was lost.
3. An offer is a WaitlistOffer row and an outbox email with a signed claim
   link. It names the freed time's practitioner, whatever the entry asked
   for ("any" included): a claim books exactly them, so one freed time makes
   one booking however many practitioners are free then. The unique (entry,
   time) constraint means nobody is offered the same time twice. The offer
   expires after WAITLIST_OFFER_HOURS, and always before the time's minimum
   notice; a time inside minimum notice or in the past is never offered
   (ClinicCalendar leaves those out).

Claims, joining and leaving are in waitlist.py, which builds on this module
and on the booking service; this one imports neither.
"""

import logging
from datetime import datetime, time, timedelta
from functools import partial
from itertools import groupby

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from booking.models import (
    BookingRules,
    Closure,
    FreedTime,
    OutboundEmail,
    Practitioner,
    WaitlistEntry,
    WaitlistOffer,
)

from .emails import queue_waitlist_email
from .schedule import ClinicCalendar

logger = logging.getLogger(__name__)


Waiting = WaitlistEntry.Status


Offered = WaitlistOffer.Status


class OfferUnavailable(Exception):
    """An offer that can no longer be claimed; the message says why, for the client."""


class AlreadyOffered(Exception):
    """That time was offered to this entry before."""


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
                    offer = _make_offer(
                        entry, slot.starts_at, freed.practitioner, rules=rules, now=now
                    )
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


def _make_offer(entry, starts_at, practitioner, *, rules, now, by=None):
    """
    The offer of `practitioner`'s time and its email, or None if it would
    expire before it could be claimed. AlreadyOffered if the time was offered
    to them before. Every offer made names its practitioner; only offers from
    before migration 0022 may lack one.
    """
    if practitioner is None:
        raise ValueError("An offer names the practitioner whose time it offers.")
    expires_at = offer_expiry(starts_at, rules=rules, now=now)
    if expires_at <= now:
        return None
    try:
        with transaction.atomic():
            offer = WaitlistOffer.objects.create(
                entry=entry,
                starts_at=starts_at,
                practitioner=practitioner,
                expires_at=expires_at,
                offered_by=by,
                created_at=now,
            )
    except IntegrityError as error:
        # Offered before, or by a concurrent run (the unique constraint
        # waited for it to commit): never twice.
        raise AlreadyOffered("That time was offered to them before.") from error
    queue_waitlist_email(entry, OutboundEmail.Kind.WAITLIST_OFFER, offer=offer)
    return offer


def offer_time(entry, starts_at, *, by, practitioner=None, now=None):
    """
    Staff offer a specific free time to a specific entry by hand: the same
    offer and email as a freed time makes, under the same rules (free,
    within minimum notice and horizon, never the same time twice). The offer
    names the entry's practitioner, or for "any practitioner" whoever the
    calendar finds free then in the order "any" is booked (`offered_with`).
    `practitioner`, when given, is the one the staff member was shown: the
    offer names them if they are still free then, and is refused otherwise
    (the order "any" goes in may have changed since the page was drawn).
    """
    now = now or timezone.now()
    with transaction.atomic():
        entry = WaitlistEntry.objects.select_related("consultation_type", "practitioner").get(
            pk=entry.pk
        )
        if entry.status != Waiting.WAITING:
            raise OfferUnavailable("They are no longer on the waitlist.")
        calendar = ClinicCalendar(entry.consultation_type, practitioner=entry.practitioner, now=now)
        slot = calendar.find(starts_at)
        if slot is None:
            raise OfferUnavailable(
                "That time is not free for online booking (taken, closed, or inside minimum notice)."
            )
        if practitioner is None:
            practitioner = offered_with(calendar, slot)
        elif practitioner not in slot.practitioners:
            raise OfferUnavailable(
                f"{practitioner.name} is no longer free then: choose from the times shown now."
            )
        offer = _make_offer(entry, starts_at, practitioner, rules=calendar.rules, now=now, by=by)
        if offer is None:
            raise OfferUnavailable("That time is too close to offer: it could not be claimed.")
    return offer


def offered_with(calendar, slot):
    """
    Whose time an offer by hand gives: for a named entry theirs (the calendar
    holds no one else); for "any practitioner" the first of those free in the
    order the booking service gives "any" (the fewest consultations that
    day, then the team's display order), so the offer books whom a booking
    of that time would have. `calendar` must be the one that found `slot`.
    """
    return calendar.assignment_order(slot)[0]


# Changes to the schedule that give time back. They are services rather
# than admin hooks so that a change made anywhere (the admin, a shell, a
# script) reaches the waitlist.


def save_closure(closure, *, changed_fields=()):
    """
    Save a closure; one that was shortened or moved gives its old days back,
    which the waitlist is offered (after the change commits).
    """
    with transaction.atomic():
        before = Closure.objects.filter(pk=closure.pk).first() if closure.pk else None
        closure.save()
        if before is not None and {"starts_on", "ends_on"} & set(changed_fields):
            note_closure_lifted(before)
    return closure


def delete_closures(closures):
    """Delete closures; their days are offered to the waitlist (after the change commits)."""
    closures = list(closures)
    with transaction.atomic():
        Closure.objects.filter(pk__in=[closure.pk for closure in closures]).delete()
        for closure in closures:
            note_closure_lifted(closure)


def note_schedule_changed(practitioner, *, now=None):
    """
    A practitioner's hours, time off or online booking changed (new hours,
    time off removed or shortened, online booking turned on): times may
    have freed up anywhere ahead, for the waitlist to offer (after the
    change commits; a change that frees nothing offers nothing).
    """
    now = now or timezone.now()
    return note_freed_time(
        practitioner,
        now,
        now + timedelta(days=BookingRules.current().horizon_days + 1),
        reason="Hours, time off or online booking changed",
    )
