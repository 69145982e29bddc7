"""
Which consultation slots can be booked.

Slots are worked out in the clinic's own time zone (settings.TIME_ZONE),
from the weekly consultation hours, less closures, minimum notice and
horizon, and returned as aware datetimes; the database stores them in UTC.
A wall-clock time that does not exist on a daylight-saving day (the hour
the clocks skip) is not offered; one that happens twice is offered once.
"""

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

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

    @property
    def clock(self):
        """
        The start as the clinic's clock shows it, with its zone, e.g. “9:30 AM
        EST”: on the night the clocks go back, 1:30 AM EDT and 1:30 AM EST
        are an hour apart.
        """
        return f"{self.local_start:%I:%M %p %Z}".lstrip("0")


def parse_slot_value(value):
    """The inverse of Slot.value; raises ValueError for anything else."""
    starts_at = datetime.strptime(value, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    try:
        # A time at the very ends of the calendar (year 1, year 9999) has no
        # clinic-local equivalent; it is as wrong as a malformed one.
        timezone.localtime(starts_at)
    except OverflowError:
        raise ValueError(f"{value!r} is out of range") from None
    return starts_at


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


class ClinicCalendar:
    """
    The clinic's bookable time as seen at one moment: the rules, hours and
    closures are read once, then any run of days can be asked for its slots
    (one more query each time, for the bookings on those days).
    """

    def __init__(self, *, now=None, ignore_booking=None):
        self.now = now or timezone.now()
        self.zone = timezone.get_current_timezone()
        self.rules = BookingRules.current()
        self.ignore_booking = ignore_booking
        self.earliest = self.now + timedelta(hours=self.rules.minimum_notice_hours)
        self.latest = self.now + timedelta(days=self.rules.horizon_days)
        self.first_day = timezone.localtime(self.earliest, self.zone).date()
        self.last_day = timezone.localtime(self.latest, self.zone).date()
        self.windows = defaultdict(list)
        for window in OpeningHours.objects.all():
            self.windows[window.weekday].append(window)
        self.closures = list(
            Closure.objects.filter(ends_on__gte=self.first_day, starts_on__lte=self.last_day)
        )

    def all_days(self):
        return [
            self.first_day + timedelta(n) for n in range((self.last_day - self.first_day).days + 1)
        ]

    def slots(self, days):
        """The slots with a seat left on these clinic-local days, in time order."""
        candidates = []
        for day in days:
            if not self.first_day <= day <= self.last_day:
                continue
            if any(closure.starts_on <= day <= closure.ends_on for closure in self.closures):
                continue
            for window in self.windows[day.weekday()]:
                for starts_at in _starts_in_window(day, window, self.rules.slot_length, self.zone):
                    if self.earliest <= starts_at <= self.latest:
                        candidates.append(starts_at)
        if not candidates:
            return []

        # Bookings are counted against every slot they overlap, not only the
        # one they start in, so a change of slot length or overlapping hours
        # never lets more consultations run at once than there is room for.
        slot_length = self.rules.slot_length
        taken = ConsultationBooking.objects.active().filter(
            starts_at__lt=max(candidates) + slot_length, ends_at__gt=min(candidates)
        )
        if self.ignore_booking is not None:
            taken = taken.exclude(pk=self.ignore_booking.pk)
        booked = sorted(taken.values_list("starts_at", "ends_at"))
        booked_starts = [starts_at for starts_at, _ in booked]
        longest = max((ends_at - starts_at for starts_at, ends_at in booked), default=timedelta(0))

        slots = []
        for starts_at in sorted(set(candidates)):
            ends_at = starts_at + slot_length
            nearby = booked[
                bisect_left(booked_starts, starts_at - longest) : bisect_left(
                    booked_starts, ends_at
                )
            ]
            seats_left = self.rules.capacity - sum(1 for _, end in nearby if end > starts_at)
            if seats_left > 0:
                slots.append(Slot(starts_at, ends_at, seats_left))
        return slots

    def week(self, start=None):
        """
        The week of slots the booking form shows, from `start` (or the first
        bookable day). A week with nothing free moves on to the next one that
        has something, so the visitor never lands on an empty page.
        """
        if start is None or not self.first_day <= start <= self.last_day:
            start = self.first_day
        while True:
            days = [start + timedelta(n) for n in range(7)]
            slots = self.slots(days)
            if slots or start + timedelta(7) > self.last_day:
                break
            start += timedelta(7)
        return SlotWeek(
            days=slots_by_day(slots),
            previous=max(self.first_day, start - timedelta(7)) if start > self.first_day else None,
            next=start + timedelta(7) if start + timedelta(7) <= self.last_day else None,
        )


@dataclass(frozen=True)
class SlotWeek:
    days: list  # [(date, [Slot])]
    previous: object  # the date the "Earlier dates" link starts from, or None
    next: object  # the date the "Later dates" link starts from, or None


def bookable_slots(*, now=None, days=None, ignore_booking=None):
    """
    Every slot with a seat left, in time order. `days` limits the search to
    some clinic-local dates; `ignore_booking` leaves one booking's own seat
    out of the count, so a client moving their booking sees their current
    slot as free. Four queries, however many slots and bookings there are.
    """
    calendar = ClinicCalendar(now=now, ignore_booking=ignore_booking)
    return calendar.slots(days if days is not None else calendar.all_days())


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
