"""
The booking page's steps before the request form: the consultation, the
practitioner (or anyone), the day, the time (templates/booking/bookings/book.html).

Every choice is a query parameter of the page (`?type=`, `?practitioner=`,
`?from=` for the strip's first day, `?day=`, `?time=`), so back, forward,
reload and a shared link show the same steps, and each choice is a plain
link: the steps need no JavaScript (htmx only swaps them in place). The
request form, step 5, shows once a time is chosen.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from booking.services.schedule import FORTNIGHT, ClinicCalendar

from .fields import SLOT_TAKEN

# The parts of the day the times are grouped into, by the clinic's clock: a
# start before noon is a morning's, before 5 PM an afternoon's (as the
# waitlist's parts of the day count them).
PARTS_OF_DAY = [("Morning", 12), ("Afternoon", 17), ("Evening", 24)]


@dataclass(frozen=True)
class Choice:
    """One card or link of a step: what it chooses, where it goes, and whether it is the choice."""

    option: object
    url: str
    chosen: bool = False


@dataclass(frozen=True)
class DayChoice:
    day: date
    free: int  # how many times are free that day
    url: str
    chosen: bool = False


def iso_date(value):
    """A `YYYY-MM-DD` query value as a date, or None for anything else."""
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


class BookingSteps:
    """
    What steps 1 to 4 show for one set of choices. The free times are
    worked out once, and only if the page shows them: a two weeks' strip of
    days costs one query for their busy times beyond the calendar's own.
    """

    def __init__(
        self,
        *,
        types,
        practitioners,
        consultation_type,
        practitioner,
        start=None,
        day=None,
        starts_at=None,
        mismatch="",
    ):
        self.types = types
        self.practitioners = practitioners
        self.consultation_type = consultation_type
        self.practitioner = practitioner
        self.start = start
        # A time chosen without its day (the request form sent back): the time's day.
        self.day = day or (timezone.localdate(starts_at) if starts_at else None)
        self.starts_at = starts_at
        self.mismatch = mismatch  # why the chosen person cannot give the chosen consultation
        self.base_url = reverse("booking:book")

    def url(self, step, **choices):
        """The page with these choices (and the type and practitioner kept), at `step`."""
        query = {
            "type": self.consultation_type.slug if self.consultation_type else None,
            "practitioner": self.practitioner.slug if self.practitioner else None,
        } | choices
        query = {name: value for name, value in query.items() if value}
        return f"{self.base_url}?{urlencode(query)}#step-{step}"

    # Step 1: the consultation.

    def holders(self, consultation_type):
        """The practitioners on the form who give this consultation."""
        return [person for person in self.practitioners if consultation_type.is_held_by(person)]

    @cached_property
    def type_choices(self):
        choices = []
        for consultation_type in self.types:
            # The chosen practitioner is kept when they give the other consultation too.
            keep = self.practitioner and consultation_type.is_held_by(self.practitioner)
            choices.append(
                Choice(
                    consultation_type,
                    self.url(
                        "practitioner",
                        type=consultation_type.slug,
                        practitioner=self.practitioner.slug if keep else None,
                    ),
                    consultation_type == self.consultation_type,
                )
            )
        return choices

    # Step 2: who with.

    @cached_property
    def practitioner_choices(self):
        if self.consultation_type is None:
            return []
        anyone = Choice(None, self.url("day", practitioner=None), self.practitioner is None)
        return [
            anyone,
            *(
                Choice(
                    person, self.url("day", practitioner=person.slug), person == self.practitioner
                )
                for person in self.holders(self.consultation_type)
            ),
        ]

    # Step 3: the day.

    @cached_property
    def fortnight(self):
        if self.consultation_type is None or self.mismatch:
            return None
        calendar = ClinicCalendar(
            self.consultation_type, practitioner=self.practitioner, candidates=self.practitioners
        )
        start = self.start
        if start is None and self.day is not None and self.day >= calendar.first_day:
            # A day chosen without its strip (a shared link, a chosen time): the strip holding it.
            start = calendar.first_day + timedelta(
                FORTNIGHT * ((self.day - calendar.first_day).days // FORTNIGHT)
            )
        return calendar.fortnight(start)

    @cached_property
    def strip_start(self):
        """The strip's first day as the address names it (None: the first bookable day)."""
        if not self.fortnight or not self.fortnight.days or self.fortnight.previous is None:
            return None
        return self.fortnight.days[0][0].isoformat()

    @cached_property
    def chosen_day(self):
        """The day asked for if it has free times, else the strip's first day that has."""
        if not self.fortnight:
            return None
        days_with_times = [day for day, slots in self.fortnight.days if slots]
        if self.day in days_with_times:
            return self.day
        return days_with_times[0] if days_with_times else None

    @cached_property
    def day_choices(self):
        if not self.fortnight:
            return []
        return [
            DayChoice(
                day,
                len(slots),
                self.url("time", **{"from": self.strip_start, "day": day.isoformat()}),
                day == self.chosen_day,
            )
            for day, slots in self.fortnight.days
        ]

    def strip_url(self, start):
        return self.url("day", **{"from": start.isoformat()}) if start else ""

    @property
    def earlier_url(self):
        return self.strip_url(self.fortnight.previous) if self.fortnight else ""

    @property
    def later_url(self):
        return self.strip_url(self.fortnight.next) if self.fortnight else ""

    @cached_property
    def first_start(self):
        """The strip's first free time (the page cache keeps the page no later than its notice)."""
        if not self.fortnight:
            return None
        return next((slots[0].starts_at for _, slots in self.fortnight.days if slots), None)

    # Step 4: the time.

    @cached_property
    def day_slots(self):
        return next((slots for day, slots in self.fortnight.days if day == self.chosen_day), [])

    @cached_property
    def time_groups(self):
        """[(part of the day, [Choice of a Slot])], the parts that have times."""
        groups = {name: [] for name, _ in PARTS_OF_DAY}
        for slot in self.day_slots:
            hour = slot.local_start.hour
            name = next(name for name, before in PARTS_OF_DAY if hour < before)
            url = self.url(
                "details",
                **{
                    "from": self.strip_start,
                    "day": self.chosen_day.isoformat(),
                    "time": slot.value,
                },
            )
            groups[name].append(Choice(slot, url, slot.starts_at == self.starts_at))
        return [(name, choices) for name, choices in groups.items() if choices]

    @cached_property
    def chosen_slot(self):
        """The chosen time, if the chosen day still offers it."""
        if self.starts_at is None or not self.fortnight:
            return None
        return next((slot for slot in self.day_slots if slot.starts_at == self.starts_at), None)

    @property
    def time_unavailable(self):
        """Why the time in the address is not offered, or ""."""
        if self.starts_at is not None and self.chosen_slot is None:
            return SLOT_TAKEN
        return ""

    # Where the page links to.

    @property
    def waitlist_query(self):
        """The waitlist's form, preselected with this consultation and practitioner."""
        return urlencode(
            {
                "type": self.consultation_type.slug if self.consultation_type else "",
                "practitioner": self.practitioner.slug if self.practitioner else "",
            }
        )

    @property
    def change_url(self):
        """Back to the steps from the request form, the choices kept but the time."""
        day = self.chosen_day.isoformat() if self.chosen_day else None
        return self.url("consultation", **{"from": self.strip_start, "day": day})
