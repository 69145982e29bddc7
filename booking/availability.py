"""
Which consultation slots can be booked.

Slots are worked out in the clinic's own time zone (settings.TIME_ZONE),
from the weekly consultation hours, less closures, minimum notice and
horizon, and returned as aware datetimes; the database stores them in UTC.
A wall-clock time that does not exist on a daylight-saving day (the hour
the clocks skip) is not offered; one that happens twice is offered once.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

from django.db.models import Count
from django.utils import timezone

from .models import BookingRules, Closure, ConsultationBooking, OpeningHours


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    seats_left: int

    @property
    def value(self):
        """The slot as the booking form submits it: UTC, to the minute."""
        return self.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")

    @property
    def local_start(self):
        return timezone.localtime(self.starts_at)


def parse_slot_value(value):
    """The inverse of Slot.value; raises ValueError for anything else."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


def _clinic_datetime(day, clock, zone):
    """
    The instant (in UTC) of a wall-clock time in the clinic, or None if the
    clocks skip it. UTC, because Python adds to and compares datetimes of
    one zone by wall-clock time, which is wrong across a clock change.
    """
    candidate = datetime.combine(day, clock, tzinfo=zone)
    instant = candidate.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None
    return instant


def _starts_in_window(day, window, slot_length, zone):
    clock = datetime.combine(day, window.starts_at)
    last_start = datetime.combine(day, window.ends_at) - slot_length
    while clock <= last_start:
        starts_at = _clinic_datetime(day, clock.time(), zone)
        if starts_at is not None:
            yield starts_at
        clock += slot_length


def bookable_slots(*, now=None, days=None, ignore_booking=None):
    """
    Every slot with a seat left, in time order. `days` limits the search to
    some clinic-local dates (used to re-check one slot cheaply);
    `ignore_booking` leaves one booking's own seat out of the count, so a
    client moving their booking sees their current slot as free.

    Four queries, however many slots and bookings there are.
    """
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    rules = BookingRules.current()
    earliest = now + timedelta(hours=rules.minimum_notice_hours)
    latest = now + timedelta(days=rules.horizon_days)

    first_day = timezone.localtime(earliest, zone).date()
    last_day = timezone.localtime(latest, zone).date()
    if days is None:
        days = [first_day + timedelta(n) for n in range((last_day - first_day).days + 1)]
    days = [day for day in days if first_day <= day <= last_day]
    if not days:
        return []

    windows = defaultdict(list)
    for window in OpeningHours.objects.all():
        windows[window.weekday].append(window)
    closures = list(Closure.objects.filter(ends_on__gte=min(days), starts_on__lte=max(days)))

    candidates = []
    for day in days:
        if any(closure.starts_on <= day <= closure.ends_on for closure in closures):
            continue
        for window in windows[day.weekday()]:
            for starts_at in _starts_in_window(day, window, rules.slot_length, zone):
                if earliest <= starts_at <= latest:
                    candidates.append(starts_at)
    if not candidates:
        return []

    taken = ConsultationBooking.objects.active().filter(
        starts_at__range=(min(candidates), max(candidates))
    )
    if ignore_booking is not None:
        taken = taken.exclude(pk=ignore_booking.pk)
    seats_taken = dict(
        taken.order_by().values("starts_at").annotate(n=Count("pk")).values_list("starts_at", "n")
    )

    slots = []
    for starts_at in sorted(set(candidates)):
        seats_left = rules.capacity - seats_taken.get(starts_at, 0)
        if seats_left > 0:
            slots.append(Slot(starts_at, starts_at + rules.slot_length, seats_left))
    return slots


def find_slot(starts_at, *, now=None, ignore_booking=None):
    """The bookable slot starting at `starts_at`, or None."""
    day = timezone.localtime(starts_at).date()
    for slot in bookable_slots(now=now, days=[day], ignore_booking=ignore_booking):
        if slot.starts_at == starts_at:
            return slot
    return None


def slots_by_day(slots):
    """[(date, [slots])] in clinic-local days, for the grouped radio buttons."""
    return [
        (day, list(group))
        for day, group in groupby(slots, key=lambda slot: slot.local_start.date())
    ]
