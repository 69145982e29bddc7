"""
Which consultation times can be booked.

A time is offered for a consultation type when at least one practitioner
who takes that type works for the whole consultation, is not on time off,
the clinic is not closed, and none of their active bookings overlaps the
consultation plus its turnover. Start times fall on the type's grid.

Times are worked out in the clinic's own time zone (settings.TIME_ZONE),
less minimum notice and horizon, and returned as aware datetimes in UTC.
A wall-clock time that does not exist on a daylight-saving day (the hour
the clocks skip) is not offered; one that happens twice (the hour the
clocks go back over) is offered twice, once in each zone, as the two
instants they are.

What working hours mean on the night the clocks go back: a window runs
from the first instant the clock shows its opening time to the first
instant it shows its closing time, and a start is offered when the clock
then shows a time at or after the opening time. So hours of 01:00–02:00 on
that Sunday are two real hours (01:00 EDT to 02:00 EST) and both 1:15 AM
EDT and 1:15 AM EST are offered; hours of 00:00–01:30 end at the first
1:30 AM (EDT). Every start is an instant, so one instant is never offered
or booked twice.
"""

from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import groupby

from django.db.models import Value
from django.utils import timezone

from booking.cache_versions import SCHEDULE, kept_between_changes
from booking.models import BookingRules, Closure, ConsultationBooking, TimeOff, WorkingHours
from clinic_site.versions import Remembered


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    # Who is free then, in the order "any practitioner" tries them.
    practitioners: tuple

    @property
    def value(self):
        """The time as the booking form submits it: UTC, to the minute."""
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
        return self.clock_in(timezone.get_current_timezone())

    def clock_in(self, zone):
        """`clock` with the clinic's zone given (a page of times looks it up once)."""
        return f"{self.starts_at.astimezone(zone):%I:%M %p %Z}".lstrip("0")


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


def clinic_datetime(day, clock, zone, *, fold=0):
    """
    The instant (in UTC) of a wall-clock time in the clinic, or None if the
    clocks skip it. UTC, because Python adds to and compares datetimes of
    one zone by wall-clock time, which is wrong across a clock change.
    `fold=1` names the second of a time that happens twice (when the clocks
    go back); for any other time it is the same instant as `fold=0`.
    """
    candidate = datetime.combine(day, clock, tzinfo=zone).replace(fold=fold)
    instant = candidate.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None
    return instant


def repeated_instants(day, clock, zone):
    """
    Both instants of a wall-clock time that happens twice (the clocks go
    back over it), first then second; an empty tuple for any other time.
    """
    first = clinic_datetime(day, clock, zone)
    second = clinic_datetime(day, clock, zone, fold=1)
    return (first, second) if first is not None and second != first else ()


def _grid_starts(day, window, grid_minutes, zone):
    """
    The instants on the type's grid (counted from midnight) from the
    window's start, in time order: a time the clocks go back over is on the
    grid twice, as two instants an hour apart.
    """
    first = window.starts_at.hour * 60 + window.starts_at.minute
    first += -first % grid_minutes
    # A start the clock shows after the window's closing time is after it.
    last = window.ends_at.hour * 60 + window.ends_at.minute
    starts = set()
    for minutes in range(first, last + 1, grid_minutes):
        clock = time(minutes // 60, minutes % 60)
        for fold in (0, 1):
            starts_at = clinic_datetime(day, clock, zone, fold=fold)
            if starts_at is not None:
                starts.add(starts_at)
    return sorted(starts)


def _window_end(day, window, zone):
    return datetime.combine(day, window.ends_at, tzinfo=zone).astimezone(UTC)


class BusyTimes:
    """One practitioner's busy ranges (bookings with turnover, time off), merged and sorted."""

    def __init__(self, ranges):
        merged = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [start for start, _ in merged]
        self.ranges = merged

    def is_free(self, start, end):
        """Whether nothing busy overlaps [start, end)."""
        index = bisect_right(self.starts, start) - 1
        if index >= 0 and self.ranges[index][1] > start:
            return False
        return index + 1 >= len(self.ranges) or self.ranges[index + 1][0] >= end


@dataclass(frozen=True)
class HoursAndClosures:
    """Everyone's working hours, and the closures that end on or after `since`."""

    since: object  # a date
    windows: dict  # (practitioner id, weekday) -> [WorkingHours], in time order
    closures: list

    def closures_between(self, first_day, last_day):
        return [
            closure
            for closure in self.closures
            if closure.ends_on >= first_day and closure.starts_on <= last_day
        ]


def read_hours_and_closures():
    # From yesterday: a process keeps them across midnight, and a calendar
    # never starts before the clinic's today (staff's starts there).
    since = timezone.localdate() - timedelta(days=1)
    windows = defaultdict(list)
    for window in WorkingHours.objects.order_by("weekday", "starts_at"):
        windows[window.practitioner_id, window.weekday].append(window)
    return HoursAndClosures(since, dict(windows), list(Closure.objects.filter(ends_on__gte=since)))


# Kept by each process between changes to the schedule (booking/cache_versions.py),
# as the rules and the booking form's choices are: every booking and every
# uncached booking page needs them, and a booking changes neither.
hours_and_closures = Remembered([SCHEDULE], read_hours_and_closures, enabled=kept_between_changes)


class ClinicCalendar:
    """
    The bookable times of one consultation type as seen at one moment. The
    rules, the practitioners who take the type, everyone's hours and the
    closures are read once (four queries, three given `candidates`; with the
    cache, the rules, hours and closures are kept by the process between
    changes to the schedule, so none but who takes the type); then
    any run of days can be asked for its times, at one more query each time
    for what keeps the practitioners busy on those days (their bookings and
    time off together) — however many practitioners, types and bookings
    there are.

    `practitioner` limits the times to one person; `online` (the public
    site) leaves out practitioners who take no online bookings; `for_staff`
    lifts minimum notice and horizon (staff book callers at short notice,
    from the start of today to a year ahead), never the overlap rule.
    `candidates`, active practitioners the caller has read already (the
    booking form's list, the type read with_named_practitioners()), saves
    the query for who takes the type: those of them who do are kept.
    """

    def __init__(
        self,
        consultation_type,
        *,
        practitioner=None,
        now=None,
        ignore_booking=None,
        online=True,
        for_staff=False,
        candidates=None,
    ):
        self.consultation_type = consultation_type
        self.now = now or timezone.now()
        self.zone = timezone.get_current_timezone()
        self.rules = BookingRules.current()
        self.ignore_booking = ignore_booking
        if for_staff:
            # From the start of the clinic's today (a walk-in already under
            # way can be recorded) to a year ahead.
            today = timezone.localdate(self.now, self.zone)
            self.earliest = datetime.combine(today, time(0), tzinfo=self.zone).astimezone(UTC)
            self.latest = self.now + timedelta(days=366)
        else:
            self.earliest = self.now + timedelta(hours=self.rules.minimum_notice_hours)
            self.latest = self.now + timedelta(days=self.rules.horizon_days)
        self.first_day = timezone.localtime(self.earliest, self.zone).date()
        self.last_day = timezone.localtime(self.latest, self.zone).date()

        if candidates is not None:
            # The same rule as qualified_practitioners(), in Python.
            self.practitioners = [
                person
                for person in candidates
                if consultation_type.is_held_by(person)
                and (person.takes_online_bookings or not online)
                and (practitioner is None or person.pk == practitioner.pk)
            ]
        else:
            practitioners = consultation_type.qualified_practitioners()
            if online:
                practitioners = practitioners.filter(takes_online_bookings=True)
            if practitioner is not None:
                practitioners = practitioners.filter(pk=practitioner.pk)
            self.practitioners = list(practitioners)
        kept = hours_and_closures()
        if kept.since > self.first_day:
            # A calendar of days before the process read them (a `now` in the past).
            kept = HoursAndClosures(
                self.first_day,
                kept.windows,
                list(Closure.objects.filter(ends_on__gte=self.first_day)),
            )
        self.windows = kept.windows  # (practitioner id, weekday) -> [WorkingHours]
        self.closures = kept.closures_between(self.first_day, self.last_day)
        # Active bookings per (practitioner id, clinic day) on the days last
        # asked for: "any practitioner" goes to whoever has the fewest.
        self.day_load = Counter()

    def all_days(self):
        return [
            self.first_day + timedelta(n) for n in range((self.last_day - self.first_day).days + 1)
        ]

    def _is_closed(self, day):
        return any(closure.starts_on <= day <= closure.ends_on for closure in self.closures)

    def _is_bookable_day(self, day):
        return self.first_day <= day <= self.last_day and not self._is_closed(day)

    def slots(self, days):
        """The times someone is free on these clinic-local days, in time order."""
        days = [day for day in days if self._is_bookable_day(day)]
        if not days or not self.practitioners:
            return []
        length = self.consultation_type.length
        blocked = length + self.consultation_type.turnover
        grid = self.consultation_type.grid_minutes
        busy_times = self._busy_times(days)
        free = defaultdict(list)  # start -> [practitioner]
        # Practitioners on the same hours share their start times: worked out once.
        window_starts = {}
        for person in self.practitioners:
            busy = busy_times[person.pk]
            for day in days:
                for window in self.windows.get((person.pk, day.weekday()), ()):
                    key = (day, window.starts_at, window.ends_at)
                    if key not in window_starts:
                        window_starts[key] = self._starts_in(day, window, length, grid)
                    for starts_at in window_starts[key]:
                        if busy.is_free(starts_at, starts_at + blocked):
                            free[starts_at].append(person)
        return [
            Slot(starts_at, starts_at + length, tuple(free[starts_at]))
            for starts_at in sorted(free)
        ]

    def _busy_times(self, days):
        """
        {practitioner id: BusyTimes} on these days (and the nights either
        side), from one query for their bookings and time off together;
        counts their bookings a day for assignment_order().
        """
        span_start = datetime.combine(min(days), time(0), tzinfo=self.zone) - timedelta(days=1)
        span_end = datetime.combine(max(days), time(0), tzinfo=self.zone) + timedelta(days=2)
        ids = [person.pk for person in self.practitioners]
        taken = ConsultationBooking.objects.holding_time_between(span_start, span_end).filter(
            practitioner__in=ids
        )
        if self.ignore_booking is not None:
            taken = taken.exclude(pk=self.ignore_booking.pk)
        leave = TimeOff.objects.filter(
            practitioner__in=ids, starts_at__lt=span_end, ends_at__gt=span_start
        )
        busy_ranges = defaultdict(list)
        self.day_load = Counter()
        for practitioner_id, starts_at, ends_at, is_booking in (
            taken.order_by()
            .values_list("practitioner", "starts_at", "blocks_until", Value(True))
            .union(
                leave.order_by().values_list("practitioner", "starts_at", "ends_at", Value(False)),
                all=True,
            )
        ):
            busy_ranges[practitioner_id].append((starts_at, ends_at))
            if is_booking:
                day = timezone.localtime(starts_at, self.zone).date()
                self.day_load[practitioner_id, day] += 1
        return {person_id: BusyTimes(busy_ranges[person_id]) for person_id in ids}

    def _starts_in(self, day, window, length, grid):
        """The grid's start times whose consultation fits the window, within notice and horizon."""
        window_end = _window_end(day, window, self.zone)
        starts = []
        for starts_at in _grid_starts(day, window, grid, self.zone):
            if starts_at + length > window_end:
                break
            if self.earliest <= starts_at <= self.latest:
                starts.append(starts_at)
        return starts

    def find(self, starts_at):
        """
        The bookable time starting at `starts_at`, or None: slots()'s rules
        for that one start, instead of listing every time of its day to
        look for it (the booking form's POST). A window offers it when it is
        on the grid counted from midnight, at or after the opening time on
        the clock, and the consultation is over by the window's end (which
        also rules out a start the clock shows after the closing time), as
        _starts_in() lists them. Who is free is in the order slots() gives.
        """
        starts_at = starts_at.astimezone(UTC)
        clock = timezone.localtime(starts_at, self.zone)
        day, minutes = clock.date(), clock.hour * 60 + clock.minute
        on_grid = clock.second == clock.microsecond == 0 and (
            minutes % self.consultation_type.grid_minutes == 0
        )
        if (
            not on_grid
            or not self._is_bookable_day(day)
            or not self.earliest <= starts_at <= self.latest
        ):
            return None
        ends_at = starts_at + self.consultation_type.length
        working = [
            person
            for person in self.practitioners
            if any(
                window.starts_at.hour * 60 + window.starts_at.minute <= minutes
                and ends_at <= _window_end(day, window, self.zone)
                for window in self.windows.get((person.pk, day.weekday()), ())
            )
        ]
        if not working:
            return None
        busy_times = self._busy_times([day])
        blocks_until = ends_at + self.consultation_type.turnover
        free = tuple(
            person for person in working if busy_times[person.pk].is_free(starts_at, blocks_until)
        )
        return Slot(starts_at, ends_at, free) if free else None

    def assignment_order(self, slot):
        """
        Who "any practitioner" goes to, best first: the fewest consultations
        that day, then the clinic's display order.
        """
        day = slot.local_start.date()
        return sorted(
            slot.practitioners,
            key=lambda person: (self.day_load[person.pk, day], person.display_order, person.name),
        )

    def week(self, start=None):
        """
        The week of times the booking form shows, from `start` (or the first
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

    def fortnight(self, start=None):
        """
        The booking page's strip of days: the clinic days (someone who holds
        the type works that weekday) of the two weeks from `start`, or from
        the first bookable day, each with its free times, a closed or full
        day with none. Like week(), a fortnight with nothing free moves on to
        the next that has something. One query for the busy times of all
        fourteen days: the chosen day's times are read from the same list.
        """
        if start is None or not self.first_day <= start <= self.last_day:
            start = self.first_day
        while True:
            days = [start + timedelta(n) for n in range(FORTNIGHT)]
            slots = self.slots(days)
            if slots or start + timedelta(FORTNIGHT) > self.last_day:
                break
            start += timedelta(FORTNIGHT)
        # (self.windows is a defaultdict: slots() adds empty entries for days nobody works.)
        working_weekdays = {weekday for (_, weekday), windows in self.windows.items() if windows}
        by_day = dict(slots_by_day(slots))
        return SlotFortnight(
            days=[
                (day, by_day.get(day, []))
                for day in days
                if day.weekday() in working_weekdays and self.first_day <= day <= self.last_day
            ],
            previous=(
                max(self.first_day, start - timedelta(FORTNIGHT))
                if start > self.first_day
                else None
            ),
            next=(
                start + timedelta(FORTNIGHT)
                if start + timedelta(FORTNIGHT) <= self.last_day
                else None
            ),
        )


# The booking page's strip of days: two weeks at a time.
FORTNIGHT = 14


@dataclass(frozen=True)
class SlotFortnight:
    days: list  # [(date, [Slot])]: every clinic day of the fortnight, in order
    previous: object  # the date the "Earlier days" link starts from, or None
    next: object  # the date the "Later days" link starts from, or None


@dataclass(frozen=True)
class SlotWeek:
    days: list  # [(date, [Slot])]
    previous: object  # the date the "Earlier dates" link starts from, or None
    next: object  # the date the "Later dates" link starts from, or None


def bookable_slots(consultation_type, *, practitioner=None, now=None, days=None, **options):
    """
    Every bookable time of a consultation type, in time order. `days` limits
    the search to some clinic-local dates; `ignore_booking` (in `options`)
    leaves one booking out, so a client moving their booking sees their
    current time as free.
    """
    calendar = ClinicCalendar(consultation_type, practitioner=practitioner, now=now, **options)
    return calendar.slots(days if days is not None else calendar.all_days())


def slots_by_day(slots):
    """[(date, [slots])] in clinic-local days, for the grouped radio buttons."""
    return [
        (day, list(group))
        for day, group in groupby(slots, key=lambda slot: slot.local_start.date())
    ]
